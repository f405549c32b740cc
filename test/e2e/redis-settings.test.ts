import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRedisSettings, warnAboutRedisSettings } from '@certfleet/store';
import { newPrefix, startRole } from '../support/certfleet.js';
import type { Proc } from '../support/processes.js';
import { startPlainRedis, type PlainRedis } from '../support/redis-topologies.js';

const EVICTING = 'Redis may evict keys: set maxmemory-policy noeviction';
const UNCHECKED = 'could not check Redis maxmemory-policy: make sure it is noeviction';

describe("every role checks BullMQ's production setting at start-up: maxmemory-policy noeviction", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    await Promise.all(cleanup.map((stop) => stop()));
  });
  const server = async (label: string, extra: (dir: string) => string[]): Promise<PlainRedis> => {
    const redis = await startPlainRedis(label, extra);
    cleanup.push(() => redis.stop());
    return redis;
  };
  const renewer = async (url: string): Promise<Proc> => {
    const proc = await startRole('renewer', { REDIS_URL: url, CERTFLEET_PREFIX: newPrefix() }, `renewer-settings-${newPrefix()}`);
    cleanup.push(() => proc.stop());
    return proc;
  };
  const warningsOf = async (proc: Proc, text: string) => {
    await proc.waitForLine((line) => line.includes(text), 10_000, `a warning "${text}"`);
    return proc.lines.filter((line) => line.includes('maxmemory-policy'));
  };

  it('warns, saying what to set and why, when the server may evict keys', async () => {
    const redis = await server('redis-lru', () => ['--maxmemory-policy', 'allkeys-lru']);
    expect(await checkRedisSettings(redis.client())).toEqual([
      { kind: 'evicting', node: `127.0.0.1:${redis.port}`, policy: 'allkeys-lru' },
    ]);
    const warnings = await warningsOf(await renewer(redis.url), EVICTING);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"maxmemoryPolicy":"allkeys-lru"');
    expect(warnings[0]).toContain('BullMQ jobs and locks');
  });

  it('says nothing when the policy is noeviction', async () => {
    const redis = await server('redis-noeviction', () => ['--maxmemory-policy', 'noeviction']);
    expect(await checkRedisSettings(redis.client())).toEqual([{ kind: 'ok', node: `127.0.0.1:${redis.port}`, policy: 'noeviction' }]);
    // The same role, started after the check above: by then its own check has answered too.
    const proc = await renewer(redis.url);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(proc.lines.filter((line) => line.includes('maxmemory-policy'))).toEqual([]);
  });

  it('reads the policy from INFO memory when CONFIG is refused, as on managed Redis', async () => {
    const redis = await server('redis-no-config', (dir) => {
      const file = join(dir, 'redis.conf');
      writeFileSync(file, 'rename-command CONFIG ""\nmaxmemory-policy volatile-lru\n');
      return [file];
    });
    const [check] = await checkRedisSettings(redis.client());
    expect(check).toEqual({ kind: 'evicting', node: `127.0.0.1:${redis.port}`, policy: 'volatile-lru' });
    await warningsOf(await renewer(redis.url), EVICTING);
  });

  it('warns that it could not check when the user may run neither CONFIG GET nor INFO', async () => {
    const redis = await server('redis-acl-no-config', (dir) => {
      const file = join(dir, 'users.acl');
      writeFileSync(file, 'user default on nopass ~* &* +@all\nuser blind on >blind-pass ~* &* +@all -config -info\n');
      return ['--aclfile', file];
    });
    const [check] = await checkRedisSettings(redis.client({ username: 'blind', password: 'blind-pass' }));
    expect(check?.kind).toBe('unknown');
    expect(check?.kind === 'unknown' && check.reason).toMatch(/NOPERM.*config\|get.*NOPERM.*info/);
    // A role cannot run as that user at all (BullMQ asks INFO for the server's version), so the
    // warning is shown on the function a role calls.
    const warned: string[] = [];
    await warnAboutRedisSettings(redis.client({ username: 'blind', password: 'blind-pass' }), { warn: (_fields, msg) => warned.push(msg) });
    expect(warned).toEqual([expect.stringContaining(UNCHECKED)]);
  });
});
