import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEdgeConfig, loadIssuerConfig } from '@certfleet/config';
import { describe, expect, it } from 'vitest';
import { graceFor } from './run-role.js';

describe('shutdown grace', () => {
  const kekFile = join(mkdtempSync(join(tmpdir(), 'certfleet-kek-')), 'kek');
  writeFileSync(kekFile, randomBytes(32).toString('base64'));
  const base = {
    REDIS_URL: 'redis://127.0.0.1:6379',
    ACME_DIRECTORY_URL: 'https://ca.example/dir',
    ACME_EMAIL: 'ops@example.com',
    CERTFLEET_KEK_FILE: kekFile,
  };

  it('outlasts the edge drain the operator set, so a long drain is not cut', () => {
    expect(graceFor(loadEdgeConfig({ ...base, UPSTREAM_URL: 'http://127.0.0.1:8080', EDGE_DRAIN_TIMEOUT: '2m' }))).toBeGreaterThan(120_000);
    expect(graceFor(loadEdgeConfig({ ...base, UPSTREAM_URL: 'http://127.0.0.1:8080', EDGE_DRAIN_TIMEOUT: '1s' }))).toBe(25_000);
  });

  it('is the fixed grace for roles that do not drain connections', () => {
    expect(graceFor(loadIssuerConfig(base))).toBe(25_000);
  });
});
