import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { loadRedisTarget } from './redis-config.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n';
const file = (name: string, text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'certfleet-redis-config-')), name);
  writeFileSync(path, text);
  return path;
};

describe('Redis target', () => {
  it('is one server from REDIS_URL by default, with its user, password and database', () => {
    const target = loadRedisTarget({ REDIS_URL: 'redis://edge:s3cret@10.0.0.5:6380/2' });
    expect(target.topology).toEqual({ kind: 'single', host: '10.0.0.5', port: 6380, db: 2 });
    expect([target.username, target.password, target.tls]).toEqual(['edge', 's3cret', undefined]);
    expect(target.endpoints).toEqual([{ host: '10.0.0.5', port: 6380 }]);
    expect(target.description).not.toContain('s3cret');
  });

  it('reads a Sentinel deployment, credentials and TLS still from REDIS_URL', () => {
    const ca = file('ca.pem', CERT);
    const target = loadRedisTarget({
      REDIS_URL: 'rediss://issuer:pw@ignored:1',
      REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b.internal:26379,[fd00::3]:26379',
      REDIS_SENTINEL_MASTER: 'certfleet',
      REDIS_TLS_CA_FILE: ca,
    });
    expect(target.topology).toEqual({
      kind: 'sentinel',
      masterName: 'certfleet',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b.internal', port: 26379 },
        { host: 'fd00::3', port: 26379 },
      ],
    });
    expect(target.username).toBe('issuer');
    expect(target.tls?.ca).toBe(CERT);
    expect(target.description).toBe('sentinel master "certfleet" via 10.0.0.1:26379,sentinel-b.internal:26379,[fd00::3]:26379 (TLS)');
  });

  it('reads a Cluster deployment from its seed nodes', () => {
    const target = loadRedisTarget({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' });
    expect(target.topology).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
    });
  });

  it('takes a client certificate and its key together', () => {
    const target = loadRedisTarget({
      REDIS_URL: 'rediss://h:6379',
      REDIS_TLS_CERT_FILE: file('c.pem', CERT),
      REDIS_TLS_KEY_FILE: file('k.pem', KEY),
    });
    expect(target.tls).toEqual({ ca: undefined, cert: CERT, key: KEY });
  });

  it.each([
    [{ REDIS_SENTINELS: '10.0.0.1:26379' }, /REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS/],
    [{ REDIS_SENTINEL_MASTER: 'm' }, /without REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: '10.0.0.1:26379', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: '10.0.0.1:7000' }, /both set.*keep one/],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1' }, /REDIS_CLUSTER_NODES must be a comma-separated list of host:port/],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1:70000' }, /REDIS_CLUSTER_NODES must be/],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_URL: 'redis://h:1/3' }, /only database 0/],
    [
      { REDIS_URL: 'redis://h:1', REDIS_TLS_CA_FILE: '/nonexistent.pem' },
      /REDIS_TLS_CA_FILE must be the path of a readable PEM file.*ENOENT/,
    ],
    [{ REDIS_URL: 'redis://h:1' }, null],
  ])('refuses an inconsistent set: %o', (env, message) => {
    if (message === null) return expect(() => loadRedisTarget(env)).not.toThrow();
    expect(() => loadRedisTarget(env)).toThrow(ConfigError);
    expect(() => loadRedisTarget(env)).toThrow(message);
  });

  it('refuses TLS files over a plain redis:// URL, saying to use rediss://', () => {
    expect(() => loadRedisTarget({ REDIS_URL: 'redis://h:1', REDIS_TLS_CA_FILE: file('ca.pem', CERT) })).toThrow(/use rediss:\/\//);
  });
});
