import { describe, expect, it } from 'vitest';
import { closestName, editDistance, KNOWN_VARIABLES, unknownVariableWarnings } from './unknown-variables.js';

describe('unknown variables', () => {
  it('suggests the known name a misspelled one is closest to', () => {
    expect(unknownVariableWarnings({ EDGE_HTTPS_PROT: '443' })).toEqual([
      'EDGE_HTTPS_PROT is set but no certfleet role reads it: did you mean EDGE_HTTPS_PORT?',
    ]);
    expect(unknownVariableWarnings({ ACME_DIRECTORY_ULR: 'https://ca/dir', RENEW_TICKS: '1s' })).toEqual([
      'ACME_DIRECTORY_ULR is set but no certfleet role reads it: did you mean ACME_DIRECTORY_URL?',
      'RENEW_TICKS is set but no certfleet role reads it: did you mean RENEW_TICK?',
    ]);
  });

  it('suggests nothing when no known name is close', () => {
    expect(unknownVariableWarnings({ DASHBOARD_THEME: 'dark' })).toEqual([
      'DASHBOARD_THEME is set but no certfleet role reads it: check its name against the configuration tables in the README',
    ]);
  });

  it('leaves known names, deprecated names and other prefixes alone', () => {
    expect(
      unknownVariableWarnings({
        EDGE_HTTPS_PORT: '443',
        EDGE_ISSUE_WAIT_MS: '2000',
        DASHBOARD_BIND_ADDRESS: '0.0.0.0',
        REDIS_PASSWORD: 'x',
        LOG_FORMAT: 'json',
        NODE_OPTIONS: '',
        PATH: '/bin',
      }),
    ).toEqual([]);
  });

  it("takes the known names from every role's specs, former names included", () => {
    for (const name of [
      'REDIS_URL',
      'EDGE_ISSUE_WAIT',
      'EDGE_ISSUE_WAIT_MS',
      'ISSUER_LOCK',
      'RENEW_RETRY',
      'DASHBOARD_TOKEN',
      'ACME_VISITOR_RESERVE',
      'ALLOW_ASK_TIMEOUT',
      'DNS_SERVERS',
      'UPSTREAM_DNS_SERVERS',
      'EDGE_HANDSHAKE_TIMEOUT',
      'ISSUER_METRICS_BIND_ADDRESS',
    ]) {
      expect(KNOWN_VARIABLES.has(name), name).toBe(true);
    }
  });

  it('counts a swap of neighbours as one edit, and suggests only within a third of the length', () => {
    expect(editDistance('PROT', 'PORT')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestName('DNS_TIMOUT', ['DNS_TIMEOUT', 'DNS_SERVERS'])).toBe('DNS_TIMEOUT');
    expect(closestName('DNS_X', ['DNS_MIN_TTL'])).toBeUndefined();
    expect(closestName('EDGE_ZZZZ', ['EDGE_HTTP2'])).toBeUndefined();
  });
});
