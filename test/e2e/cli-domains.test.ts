import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, newPrefix } from '../support/certfleet.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { createStore, Redis } from '../support/workspace.js';

// The CLI's `domains` commands on the hostname service the API uses (@certfleet/hostnames).
let redis: RedisServer;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis('cli-domains');
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const dir = mkdtempSync(join(tmpdir(), 'certfleet-cli-domains-'));
const envOf = (prefix: string) => ({ REDIS_URL: redis.url, CERTFLEET_PREFIX: prefix, LOG_LEVEL: 'silent' });
const statusJson = async (name: string, env: NodeJS.ProcessEnv) =>
  JSON.parse((await cli(['domains', 'status', name, '--json'], env)).stdout) as {
    hostname: { hostname: string; status: string; hold: { budget: string; until: string } | null; validation_errors: { type: string }[] };
  };

describe('domains add, status, rm through the hostname service', () => {
  it('registers a name as the API would, shows its hostname object, and retires it on rm', async () => {
    const env = envOf(newPrefix('cli'));
    const added = await cli(['domains', 'add', 'Shop.Example.com.', '*.tenants.example.net', 'bad_name.example.com'], env);
    expect(added.code).toBe(1);
    expect(added.stdout).toContain('added 2 entries');
    expect(added.stderr).toContain('skipped "bad_name.example.com"');
    expect((await statusJson('shop.example.com', env)).hostname).toMatchObject({ hostname: 'shop.example.com', status: 'pending' });
    const again = await cli(['domains', 'add', 'shop.example.com'], env);
    expect(again.stdout).toContain('added 0 entries, 1 already allowed');
    expect(JSON.parse((await cli(['domains', 'ls', '--json'], env)).stdout)).toEqual(
      expect.arrayContaining(['shop.example.com', '*.tenants.example.net']),
    );
    expect((await cli(['domains', 'rm', 'shop.example.com', '*.tenants.example.net'], env)).stdout).toContain('removed 2 entries');
    expect((await statusJson('shop.example.com', env)).hostname.status).toBe('retired');
    expect(JSON.parse((await cli(['domains', 'ls', '--json'], env)).stdout)).toEqual([]);
  });

  it('shows which CA budget holds a name and until when, and its validation errors', async () => {
    const prefix = newPrefix('cli');
    const env = envOf(prefix);
    expect((await cli(['domains', 'add', 'held.example.com', 'cool.example.com'], env)).code).toBe(0);
    const store = createStore(client, prefix);
    const until = Date.now() + 3 * 3_600_000;
    await store.issueRecords.hold('held.example.com', { budget: 'letsencrypt:domain:example.com', until, at: Date.now() });
    await store.issueRecords.addValidationError('cool.example.com', {
      at: Date.now(),
      type: 'urn:ietf:params:acme:error:connection',
      detail: 'the CA reached 203.0.113.9, which is not ours: point the CNAME at edge.example.net',
    });
    await store.nameStates.markCooling('cool.example.com', 'the CA could not validate cool.example.com', Date.now() + 600_000, Date.now());

    const held = await cli(['domains', 'status', 'held.example.com'], env);
    const untilText = new Date(until).toISOString().replace(/\.\d{3}Z$/, '');
    expect(held.stdout).toMatch(
      new RegExp(`state\\s+held: the CA budget letsencrypt:domain:example\\.com is spent; the order waits until ${untilText}`),
    );
    expect(held.stdout).toMatch(/held by\s+CA budget letsencrypt:domain:example\.com until/);
    expect(held.stdout).not.toContain('never issued');

    const cooling = await cli(['domains', 'status', 'cool.example.com'], env);
    expect(cooling.stdout).toMatch(/state\s+cooling down until/);
    expect(cooling.stdout).toMatch(
      /validation errors\s+\S+\s+connection: the CA reached 203\.0\.113\.9, which is not ours: point the CNAME at edge\.example\.net/,
    );

    // The names that are failing, cooling down or held, listed from the status index.
    const failing = await cli(['domains', 'ls', '--state', 'failed'], env);
    expect(failing.stdout).toMatch(
      /cool\.example\.com\s+failed\s+none\s+cooling down until \S+; connection: the CA reached 203\.0\.113\.9/,
    );
    expect(failing.stdout).toContain('1 shown, no more');
    expect((await cli(['domains', 'ls', '--state', 'cooling', '--json'], env)).stdout).toContain('"hostname":"cool.example.com"');
    const heldList = await cli(['domains', 'ls', '--state', 'held'], env);
    expect(heldList.stdout).toMatch(/held\.example\.com\s+pending\s+none\s+held by CA budget letsencrypt:domain:example\.com until/);
    expect(heldList.stdout).not.toContain('cool.example.com');
  });

  it('refuses names under FORBIDDEN_SUFFIXES, as the API does', async () => {
    const env = { ...envOf(newPrefix('cli')), FORBIDDEN_SUFFIXES: 'internal.example' };
    const result = await cli(['domains', 'add', 'db.internal.example', 'www.example.com'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/skipped "db\.internal\.example": .*internal\.example/);
    expect(result.stdout).toContain('added 1 entry');
  });

  it('pages a listing, saying how to get the next page', async () => {
    const env = envOf(newPrefix('cli'));
    expect((await cli(['domains', 'add', 'a.example.com', 'b.example.com', 'c.example.com'], env)).code).toBe(0);
    const first = await cli(['domains', 'ls', '--state', 'pending', '--limit', '2'], env);
    const cursor = /run again with --cursor (\S+)/.exec(first.stdout)?.[1];
    expect(first.stdout).toMatch(/a\.example\.com[\s\S]*b\.example\.com/);
    expect(cursor).toBeDefined();
    const second = await cli(['domains', 'ls', '--state', 'pending', '--limit', '2', '--cursor', cursor ?? ''], env);
    expect(second.stdout).toContain('c.example.com');
    expect(second.stdout).not.toContain('a.example.com');
  });

  it.for([
    [['--state', 'broken'], '--state must be one of pending, active, failed, retired, cooling, held, got "broken"'],
    [['--state', 'failed', '--limit', 'x'], '--limit must be a whole number from 1 to 1000, got "x"'],
    [['--state', 'failed', '--cursor', 'not-a-cursor'], 'cursor'],
  ] as const)('refuses ls %j with a clear message', async ([args, message], { expect }) => {
    const result = await cli(['domains', 'ls', ...args], envOf(newPrefix('cli')));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });
});

describe('domains import', () => {
  const file = join(dir, 'names.txt');
  const names = Array.from({ length: 5_000 }, (_, i) => `n${i}.import.example.com`);
  writeFileSync(file, `${names.slice(0, 10).join('\n')}\nnot a name\n${names.slice(10).join('\n')}\n-x-.example\n`);

  it('prints one summary line and the invalid lines by number when not on a terminal; the valid names go in', async () => {
    const prefix = newPrefix('cli');
    const result = await cli(['domains', 'import', file], envOf(prefix));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^imported 5000 entries \(5000 new\), skipped 2 in \d+\.\d s \(\d+\/s\)\n$/);
    expect(result.stderr).toContain(`${file}:11: skipped "not a name"`);
    expect(result.stderr).toContain(`${file}:5002: skipped "-x-.example"`);
    expect(result.stderr).not.toContain('\r');
    expect(await client.zcard(`${prefix}:hostnames`)).toBe(5_000);
  });

  it('reads standard input for -, naming it in the invalid lines it reports', async () => {
    const prefix = newPrefix('cli');
    const output = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, 'domains', 'import', '-'],
        { env: { ...process.env, ...envOf(prefix) } },
        (_error, stdout, stderr) => resolve({ stdout, stderr }),
      );
      child.stdin?.end('one.example.com\nbad name\ntwo.example.com\n');
    });
    expect(output.stdout).toMatch(/^imported 2 entries \(2 new\), skipped 1 /);
    expect(output.stderr).toContain('stdin:2: skipped "bad name"');
    expect(await client.zcard(`${prefix}:hostnames`)).toBe(2);
  });

  it('draws a progress bar with count, rate and ETA on a terminal', async () => {
    const prefix = newPrefix('cli');
    // `script` gives the CLI a pseudo-terminal, as an operator's shell would.
    const command = `${process.execPath} ${CLI} domains import ${file}`;
    const output = await new Promise<string>((resolve) =>
      execFile('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...envOf(prefix) } }, (_error, stdout) =>
        resolve(stdout),
      ),
    );
    expect(output).toMatch(/\r\[[#-]{24}\] +\d+% {2}[\d,]+ names {2}[\d,]+\/s {2}ETA /);
    expect(output).toMatch(/imported 5000 entries \(5000 new\), skipped 2/);
    expect(await client.zcard(`${prefix}:hostnames`)).toBe(5_000);
  });
});
