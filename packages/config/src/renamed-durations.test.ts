import { describe, expect, it } from 'vitest';
import { loadPolicyConfig } from './policy-config.js';
import { loadEdgeConfig, loadIssuerConfig, loadRenewerConfig } from './roles.js';
import { kekFileEnv } from './fakes.js';

const edgeEnv = { UPSTREAM_URL: 'http://127.0.0.1:8080', ...kekFileEnv() };
const issuerEnv = { ACME_DIRECTORY_URL: 'https://ca.example/dir', ...kekFileEnv() };

describe('durations renamed from integers of milliseconds', () => {
  it('reads each new name as a duration with its unit', () => {
    expect(loadEdgeConfig({ ...edgeEnv, EDGE_ISSUE_WAIT: '5s' })).toMatchObject({ issueWaitMs: 5_000, warnings: [] });
    expect(loadIssuerConfig({ ...issuerEnv, ISSUER_LOCK: '1m' })).toMatchObject({ lockMs: 60_000, warnings: [] });
    expect(loadRenewerConfig({ RENEW_TICK: '500ms', RENEW_RETRY: '2h' })).toMatchObject({ tickMs: 500, retryMs: 7_200_000, warnings: [] });
    const policy = loadPolicyConfig({
      ALLOW_POLICY: 'ask,dns',
      ALLOW_ASK_URL: 'http://127.0.0.1:9/ask',
      ALLOW_DNS_IPS: '192.0.2.1',
      ALLOW_ASK_TIMEOUT: '750ms',
      DNS_TIMEOUT: '3s',
    });
    expect(policy.ask?.timeoutMs).toBe(750);
    expect(policy.dns?.timeoutMs).toBe(3_000);
  });

  it('keeps the documented defaults', () => {
    expect(loadEdgeConfig(edgeEnv).issueWaitMs).toBe(2_000);
    expect(loadIssuerConfig(issuerEnv).lockMs).toBe(30_000);
    expect(loadRenewerConfig({})).toMatchObject({ tickMs: 60_000, retryMs: 3_600_000 });
  });

  it.each([
    [
      'EDGE_ISSUE_WAIT_MS',
      'EDGE_ISSUE_WAIT',
      '5000',
      '5s',
      () => loadEdgeConfig({ ...edgeEnv, EDGE_ISSUE_WAIT_MS: '5000' }).issueWaitMs,
      5_000,
    ],
    ['ISSUER_LOCK_MS', 'ISSUER_LOCK', '90000', '90s', () => loadIssuerConfig({ ...issuerEnv, ISSUER_LOCK_MS: '90000' }).lockMs, 90_000],
    ['RENEW_TICK_MS', 'RENEW_TICK', '1500', '1500ms', () => loadRenewerConfig({ RENEW_TICK_MS: '1500' }).tickMs, 1_500],
  ])('still reads the old %s as milliseconds, with a warning giving %s', (old, current, given, written, read, ms) => {
    expect(read()).toBe(ms);
    const load = old.startsWith('EDGE') ? loadEdgeConfig : old.startsWith('ISSUER') ? loadIssuerConfig : loadRenewerConfig;
    const warnings = load({ ...edgeEnv, ...issuerEnv, [old]: given }).warnings;
    expect(warnings).toContainEqual(
      expect.stringContaining(`${old} is deprecated: replace it with ${current}, written with a unit: ${current}=${written}`),
    );
  });

  it('reads the old policy names too, and says so', () => {
    const warnings: string[] = [];
    const policy = loadPolicyConfig(
      { ALLOW_POLICY: 'ask', ALLOW_ASK_URL: 'http://127.0.0.1:9/ask', ALLOW_ASK_TIMEOUT_MS: '1500', DNS_TIMEOUT_MS: '400' },
      warnings,
    );
    expect(policy.ask?.timeoutMs).toBe(1_500);
    expect(warnings).toEqual([
      'ALLOW_ASK_TIMEOUT_MS is deprecated: replace it with ALLOW_ASK_TIMEOUT, written with a unit: ALLOW_ASK_TIMEOUT=1500ms (unset, it now defaults to 2s)',
      'DNS_TIMEOUT_MS is deprecated: replace it with DNS_TIMEOUT, written with a unit: DNS_TIMEOUT=400ms (unset, it now defaults to 1s)',
    ]);
  });

  it('checks the old name against the same bounds, naming it', () => {
    expect(() => loadEdgeConfig({ ...edgeEnv, EDGE_ISSUE_WAIT_MS: '-1' })).toThrow(
      'EDGE_ISSUE_WAIT_MS must be a whole number of milliseconds from 0 to 60000, got "-1"',
    );
    expect(() => loadEdgeConfig({ ...edgeEnv, EDGE_ISSUE_WAIT: '2m' })).toThrow(
      'EDGE_ISSUE_WAIT must be a duration such as 500ms, 15s, 5m, 12h or 1d, from 0ms to 1m, got "2m" (out of range)',
    );
    expect(() => loadRenewerConfig({ RENEW_TICK: '5000' })).toThrow('RENEW_TICK must be a duration');
  });

  it('accepts both names set to the same duration, and refuses them set to different ones', () => {
    expect(loadRenewerConfig({ RENEW_TICK: '1s', RENEW_TICK_MS: '1000' }).warnings).toEqual([
      'RENEW_TICK_MS is deprecated and RENEW_TICK is set to the same value: remove RENEW_TICK_MS',
    ]);
    expect(() => loadRenewerConfig({ RENEW_TICK: '2s', RENEW_TICK_MS: '1000' })).toThrow(
      'RENEW_TICK_MS (deprecated) and RENEW_TICK are both set, to different values: keep only RENEW_TICK',
    );
  });
});

describe('durations that were bare numbers of seconds', () => {
  const dnsPolicy = { ALLOW_POLICY: 'dns', ALLOW_DNS_IPS: '192.0.2.1', DNS_SERVERS: '127.0.0.1' };
  const askPolicy = { ALLOW_POLICY: 'ask', ALLOW_ASK_URL: 'http://127.0.0.1:9/ask' };

  it('reads them with units, and keeps the defaults', () => {
    expect(loadPolicyConfig({ ...dnsPolicy, DNS_MIN_TTL: '500ms', DNS_MAX_TTL: '2h' }).dns).toMatchObject({
      minTtlMs: 500,
      maxTtlMs: 7_200_000,
      negativeTtlMs: 5_000,
      maxStaleMs: 300_000,
    });
    expect(loadPolicyConfig(askPolicy).ask).toMatchObject({ allowTtlMs: 3_600_000, denyTtlMs: 60_000, maxStaleMs: 3_600_000 });
  });

  it('still reads a bare number as seconds, with a warning asking for the unit', () => {
    const warnings: string[] = [];
    expect(loadPolicyConfig({ ...askPolicy, ALLOW_ASK_ALLOW_TTL: '7200', ALLOW_ASK_DENY_TTL: '60' }, warnings).ask).toMatchObject({
      allowTtlMs: 7_200_000,
      denyTtlMs: 60_000,
    });
    expect(warnings).toEqual([
      'ALLOW_ASK_ALLOW_TTL=7200 is a number without a unit (read as seconds), which is deprecated: write it as ALLOW_ASK_ALLOW_TTL=2h',
      'ALLOW_ASK_DENY_TTL=60 is a number without a unit (read as seconds), which is deprecated: write it as ALLOW_ASK_DENY_TTL=1m',
    ]);
  });

  it('brings the deprecation warning to the role that reads them', () => {
    const config = loadEdgeConfig({ ...edgeEnv, ...dnsPolicy, DNS_MAX_STALE: '600' });
    expect(config.policy.dns?.maxStaleMs).toBe(600_000);
    expect(config.warnings).toContainEqual(expect.stringContaining('DNS_MAX_STALE=600 is a number without a unit'));
  });
});
