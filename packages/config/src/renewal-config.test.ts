import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCaConfigs } from './ca-config.js';
import { loadEdgeConfig, loadIssuerConfig } from './roles.js';
import { kekFileEnv } from './fakes.js';

const base = { ACME_DIRECTORY_URL: 'https://ca.example/dir', UPSTREAM_URL: 'http://127.0.0.1:8080', ...kekFileEnv() };

describe('renewal settings', () => {
  it('reads a profile and a renewal budget for the single CA', () => {
    const [ca] = loadCaConfigs({ ...base, ACME_PROFILE: 'shortlived', ACME_RENEWAL_BUDGET: '20/20s' });
    expect(ca?.profile).toBe('shortlived');
    expect(ca?.renewalBudget).toEqual({ capacity: 20, refillIntervalMs: 1_000 });
  });

  it('leaves both unset by default', () => {
    const [ca] = loadCaConfigs(base);
    expect(ca?.profile).toBeUndefined();
    expect(ca?.renewalBudget).toBeUndefined();
  });

  it('refuses a malformed profile or budget, naming the variable', () => {
    expect(() => loadCaConfigs({ ...base, ACME_PROFILE: 'short lived' })).toThrow(/ACME_PROFILE must be an ACME profile name/);
    expect(() => loadCaConfigs({ ...base, ACME_RENEWAL_BUDGET: '20 per second' })).toThrow(/ACME_RENEWAL_BUDGET must be a bucket/);
  });

  it('reads them per CA from ACME_CAS_FILE', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'certfleet-config-')), 'cas.json');
    writeFileSync(
      file,
      JSON.stringify([
        { name: 'le', directoryUrl: 'https://ca.example/dir', profile: 'tlsserver', renewalBudget: '100/1h' },
        { name: 'b', directoryUrl: 'https://b.example/dir' },
      ]),
    );
    const [le, b] = loadCaConfigs({ ACME_CAS_FILE: file });
    expect(le).toMatchObject({ profile: 'tlsserver', renewalBudget: { capacity: 100, refillIntervalMs: 36_000 } });
    expect(b).toMatchObject({ profile: undefined, renewalBudget: undefined });
    writeFileSync(file, JSON.stringify([{ name: 'le', directoryUrl: 'https://ca.example/dir', profile: '' }]));
    expect(() => loadCaConfigs({ ACME_CAS_FILE: file })).toThrow(/\[0\.profile\]/);
  });

  it('reads the idle period and the ARI poll tick as durations', () => {
    expect(loadIssuerConfig(base)).toMatchObject({ idleAfterMs: 30 * 86_400_000, ariPollTickMs: 30_000 });
    expect(loadIssuerConfig({ ...base, RENEW_IDLE_AFTER: '45s', ISSUER_ARI_POLL_TICK: '1s' })).toMatchObject({
      idleAfterMs: 45_000,
      ariPollTickMs: 1_000,
    });
    expect(() => loadIssuerConfig({ ...base, RENEW_IDLE_AFTER: '30' })).toThrow(/RENEW_IDLE_AFTER must be a duration/);
  });

  it("reads the edge's served-name sampling interval", () => {
    expect(loadEdgeConfig(base).servedRecordIntervalMs).toBe(3_600_000);
    expect(loadEdgeConfig({ ...base, EDGE_SERVED_RECORD_INTERVAL: '5s' }).servedRecordIntervalMs).toBe(5_000);
  });
});
