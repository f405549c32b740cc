import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, newPrefix } from '../support/certfleet.js';
import { freePort, REPO_ROOT } from '../support/processes.js';
import { startRedis, type RedisServer } from '../support/redis.js';

// The friction a new user met with the CLI (issue 13), one case each, against the built CLI.
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis('cli-friction');
});
afterAll(async () => {
  await redis?.stop();
});

const dir = mkdtempSync(join(tmpdir(), 'certfleet-cli-friction-'));
const env = (prefix = newPrefix('cli')) => ({ REDIS_URL: redis.url, CERTFLEET_PREFIX: prefix, LOG_LEVEL: 'silent' });

describe('with Redis unreachable', () => {
  it.for([
    ['domains', 'ls'],
    ['certs', 'ls'],
    ['domains', 'status', 'a.example.com'],
  ])('%s %s fails at once, naming Redis, the redacted URL and what to do', async (args, { expect }) => {
    const port = await freePort();
    const result = await cli(args, { REDIS_URL: `redis://ops:s3cret-pw@127.0.0.1:${port}`, CERTFLEET_PREFIX: 'x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`certfleet: cannot reach Redis at redis://ops:***@127.0.0.1:${port} within 1.5 s`);
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr).toContain('start Redis there, or point REDIS_URL');
    expect(result.stderr).not.toContain('s3cret-pw');
    expect(result.stderr).not.toContain('Command timed out');
  });
});

describe('domains import', () => {
  it('names a missing file and what to do, before it connects to Redis', async () => {
    const missing = join(dir, 'no-such-names.txt');
    const result = await cli(['domains', 'import', missing], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `certfleet: cannot read the import file "${missing}": no such file: check the path (relative paths start from the current directory), or give - to read standard input`,
    );
  });

  it('refuses a directory, saying so', async () => {
    const result = await cli(['domains', 'import', dir], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot read the import file "${dir}": it is a directory`);
  });
});

describe('certs ls', () => {
  it.for([
    ['--limit', 'abc', '--limit must be a whole number from 1 to 10000, got "abc"'],
    ['--limit', '0', '--limit must be a whole number from 1 to 10000, got "0"'],
    ['--limit', '99999999999999999999', '--limit must be a whole number from 1 to 10000'],
    ['--from', '-3', '--from must be a whole number from 0 to'],
    ['--state', 'expired', '--state must be active, retired or all, got "expired"'],
  ])('refuses %s %s with a clear message', async ([option, value, message], { expect }) => {
    const result = await cli(['certs', 'ls', `${option}=${value}`], env());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/ERR |Redis/);
  });

  it('says how many it showed and that there are no more', async () => {
    const result = await cli(['certs', 'ls'], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('0 shown, no more');
  });
});

describe('domains status', () => {
  it('shows the problem type and detail of a last error stored as raw JSON', async () => {
    const prefix = newPrefix('cli');
    const authorization = JSON.stringify({
      identifier: { type: 'dns', value: 'shop.example.com' },
      status: 'invalid',
      challenges: [
        {
          type: 'http-01',
          url: 'https://127.0.0.1:14000/chalZ/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
          token: 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
          status: 'invalid',
          error: { type: 'urn:ietf:params:acme:error:connection', detail: '203.0.113.9: Connection refused', status: 400 },
        },
      ],
    });
    const client = redis.client();
    // What the issuer records after a failed validation (name-state.ts), as acme-client words it.
    await client.hset(`${prefix}:name-state:{shop.example.com}`, {
      state: 'cooling',
      attempts: 1,
      failures: 1,
      lastError: `the CA could not validate shop.example.com: ${authorization}`.slice(0, 500),
      lastErrorAt: Date.now(),
      coolUntil: Date.now() + 60_000,
      updatedAt: Date.now(),
    });
    const result = await cli(['domains', 'status', 'shop.example.com'], env(prefix));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /last error\s+the CA could not validate shop\.example\.com: connection: 203\.0\.113\.9: Connection refused/,
    );
  });
});

describe('the certfleet bin', () => {
  it('prints valid JSON and nothing else on standard output', async () => {
    const prefix = newPrefix('cli');
    expect((await cli(['domains', 'add', 'a.example.com', '*.b.example.net'], env(prefix))).code).toBe(0);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(join(REPO_ROOT, 'bin/certfleet'), ['domains', 'ls', '--json'], { env: { ...process.env, ...env(prefix) } }, (error, out) =>
        error ? reject(error) : resolve(out),
      ),
    );
    expect(JSON.parse(stdout)).toEqual(expect.arrayContaining(['a.example.com', '*.b.example.net']));
  });
});
