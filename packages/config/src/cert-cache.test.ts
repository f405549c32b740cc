import { describe, expect, it } from 'vitest';
import { loadEdgeConfig } from './roles.js';
import { kekFileEnv } from './fakes.js';

const base = { UPSTREAM_URL: 'http://127.0.0.1:8080', ...kekFileEnv() };
const MB = 1024 * 1024;

describe('certificate cache bounds', () => {
  it('by default holds 64 MB, and as many names as that holds', () => {
    const config = loadEdgeConfig(base);
    expect(config.certCacheBytes).toBe(64 * MB);
    expect(config.certCacheSize).toBe(2427);
  });

  it('keeps as many names as EDGE_CERT_CACHE_SIZE says when the megabytes are not set', () => {
    const config = loadEdgeConfig({ ...base, EDGE_CERT_CACHE_SIZE: '10000' });
    expect(config.certCacheSize).toBe(10_000);
    expect(config.certCacheBytes).toBe(10_000 * 27 * 1024);
    expect(config.warnings).toEqual([]);
  });

  it('holds as many names as EDGE_CERT_CACHE_MB holds when the size is not set', () => {
    const config = loadEdgeConfig({ ...base, EDGE_CERT_CACHE_MB: '128' });
    expect(config).toMatchObject({ certCacheBytes: 128 * MB, certCacheSize: 4854 });
  });

  it('warns when both are set and the size cannot fit in the megabytes', () => {
    const config = loadEdgeConfig({ ...base, EDGE_CERT_CACHE_SIZE: '10000', EDGE_CERT_CACHE_MB: '64' });
    expect(config).toMatchObject({ certCacheSize: 10_000, certCacheBytes: 64 * MB });
    expect(config.warnings).toEqual([
      'EDGE_CERT_CACHE_SIZE=10000 cannot be reached: EDGE_CERT_CACHE_MB=64 holds about 2427 certificates (27 KB each); raise EDGE_CERT_CACHE_MB to 264, lower EDGE_CERT_CACHE_SIZE, or leave one of the two unset',
    ]);
    expect(loadEdgeConfig({ ...base, EDGE_CERT_CACHE_SIZE: '1000', EDGE_CERT_CACHE_MB: '64' }).warnings).toEqual([]);
  });
});

describe('issue wait and handshake timeout', () => {
  it('warns when the wait for a certificate would outlast the handshake', () => {
    expect(loadEdgeConfig({ ...base, EDGE_ISSUE_WAIT: '30s' }).warnings).toEqual([
      'EDGE_ISSUE_WAIT (30s) is not shorter than EDGE_HANDSHAKE_TIMEOUT (10s): a handshake waiting for a new certificate is closed at the timeout, before the wait ends; raise EDGE_HANDSHAKE_TIMEOUT above EDGE_ISSUE_WAIT or shorten the wait',
    ]);
    expect(loadEdgeConfig({ ...base, EDGE_ISSUE_WAIT: '30s', EDGE_HANDSHAKE_TIMEOUT: '45s' }).warnings).toEqual([]);
  });
});
