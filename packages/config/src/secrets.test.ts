import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCaConfigs } from './ca-config.js';
import { loadPolicyConfig } from './policy-config.js';
import { loadCommonConfig, loadEdgeConfig } from './roles.js';
import { kekFileEnv } from './fakes.js';

const SECRET = 'hunter2-hunter2';

/** The message of what `load` throws. */
function errorOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('secrets in configuration errors', () => {
  it('masks the password of a REDIS_URL that new URL cannot parse', () => {
    const message = errorOf(() => loadCommonConfig({ REDIS_URL: `redis://default:${SECRET}/x@redis.example:6379` }));
    expect(message).toContain('REDIS_URL must be a URL starting with redis:// or rediss://, got "redis://default:***@redis.example:6379"');
    expect(message).not.toContain(SECRET);
  });

  it('masks the password of a REDIS_URL with the wrong scheme', () => {
    const message = errorOf(() => loadCommonConfig({ REDIS_URL: `http://:${SECRET}@redis.example:6379` }));
    expect(message).toContain('got "http://:***@redis.example:6379"');
    expect(message).not.toContain(SECRET);
  });

  it('masks a key in the query of ALLOW_ASK_URL', () => {
    const message = errorOf(() => loadPolicyConfig({ ALLOW_POLICY: 'ask', ALLOW_ASK_URL: `ftp://ask.example/check?key=${SECRET}` }));
    expect(message).toContain('ALLOW_ASK_URL must be a URL starting with http:// or https://, got "ftp://ask.example/check?key=***"');
    expect(message).not.toContain(SECRET);
  });

  it('never shows ACME_EAB_HMAC_KEY, only its length', () => {
    const key = `${SECRET}!`;
    const message = errorOf(() =>
      loadCaConfigs({ ACME_DIRECTORY_URL: 'https://ca.example/dir', ACME_EAB_KID: 'kid-1', ACME_EAB_HMAC_KEY: key }),
    );
    expect(message).toBe(`ACME_EAB_HMAC_KEY must be a base64url HMAC key, got a value of ${key.length} characters`);
  });

  it('does not quote an ACME_CAS_FILE that is not JSON (it may hold an EAB key)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'certfleet-config-')), 'cas.json');
    writeFileSync(file, `[{ "name": "zerossl", "eab": { "kid": "k", "hmacKey": ${SECRET} } }]`);
    const message = errorOf(() => loadCaConfigs({ ACME_CAS_FILE: file }));
    expect(message).toMatch(/^ACME_CAS_FILE ".*cas\.json" is not valid JSON/);
    expect(message).not.toContain('hunter2');
  });
});

describe('UPSTREAM_URL', () => {
  const env = { UPSTREAM_URL: 'http://app.internal:8080', ...kekFileEnv() };

  it('refuses a user name and password, without showing the password', () => {
    const message = errorOf(() => loadEdgeConfig({ ...env, UPSTREAM_URL: `http://deploy:${SECRET}@app.internal:8080/shop` }));
    expect(message).toBe(
      'UPSTREAM_URL must not carry a user name or password, got "http://deploy:***@app.internal:8080/shop": the edge never sends them to the upstream; remove them (let the upstream trust the edge by its network address instead)',
    );
  });

  it('refuses a query or a fragment, which the edge would drop', () => {
    expect(errorOf(() => loadEdgeConfig({ ...env, UPSTREAM_URL: `http://app.internal:8080/?token=${SECRET}` }))).toBe(
      'UPSTREAM_URL must not carry a query or a fragment, got "http://app.internal:8080/?token=***": the edge does not send them; give scheme, host, port and an optional path prefix',
    );
    expect(() => loadEdgeConfig({ ...env, UPSTREAM_URL: 'http://app.internal:8080/#x' })).toThrow(/must not carry a query or a fragment/);
  });

  it('accepts scheme, host, port and a path prefix', () => {
    expect(loadEdgeConfig(env).upstreamUrl.href).toBe('http://app.internal:8080/');
  });
});
