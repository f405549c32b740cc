import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cli } from '../support/certfleet.js';
import { spawnProc } from '../support/processes.js';

const kekDir = mkdtempSync(join(tmpdir(), 'certfleet-kek-'));
const kekFile = join(kekDir, 'kek');
writeFileSync(kekFile, `${randomBytes(32).toString('base64')}\n`);
const shortKeyFile = join(kekDir, 'short');
writeFileSync(shortKeyFile, `${randomBytes(16).toString('base64')}\n`);
const base = { REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'silent', CERTFLEET_KEK_FILE: kekFile };
const edge = { ...base, UPSTREAM_URL: 'http://127.0.0.1:9' };
const issuer = { ...base, ACME_DIRECTORY_URL: 'https://127.0.0.1:14000/dir' };
const HOW_TO_MAKE_A_KEY = '(make one: `openssl rand -base64 32 > /path; CERTFLEET_KEK_FILE=/path`)';

// Each case is one short-lived CLI process, which here waits more than it computes (1.3-2.5 s
// of wall time for 0.5-0.7 s of CPU, measured): they run side by side (vitest's
// maxConcurrency, 5 at a time), each with its test's own `expect`.
describe.concurrent('configuration is validated at start-up', () => {
  it.for([
    ['edge', 'EDGE_HTTPS_PORT must be a port number (1-65535), got "abc"', { ...edge, EDGE_HTTPS_PORT: 'abc' }],
    ['edge', 'EDGE_HTTP_PORT must be a port number (1-65535), got "70000"', { ...edge, EDGE_HTTP_PORT: '70000' }],
    ['edge', 'UPSTREAM_URL is required: set it to a URL starting with http:// or https://', { ...base, UPSTREAM_URL: '' }],
    ['edge', 'UPSTREAM_URL must be a URL starting with http:// or https://, got "ftp://x"', { ...edge, UPSTREAM_URL: 'ftp://x' }],
    [
      'edge',
      'UPSTREAM_RESOLVE_INTERVAL must be a duration such as 500ms, 15s, 5m, 12h or 1d, from 1s to 1h, got "often"',
      { ...edge, UPSTREAM_RESOLVE_INTERVAL: 'often' },
    ],
    [
      'edge',
      'EDGE_ISSUE_WAIT must be a duration such as 500ms, 15s, 5m, 12h or 1d, from 0ms to 1m, got "-1s"',
      { ...edge, EDGE_ISSUE_WAIT: '-1s' },
    ],
    // The deprecated name is still checked, as the integer of milliseconds it always was.
    ['edge', 'EDGE_ISSUE_WAIT_MS must be a whole number of milliseconds from 0 to 60000', { ...edge, EDGE_ISSUE_WAIT_MS: '-1' }],
    [
      'edge',
      'DNS_SERVERS must be a comma-separated list of DNS servers as IP or IP:PORT',
      { ...edge, ALLOW_POLICY: 'dns', ALLOW_DNS_IPS: '192.0.2.1', DNS_SERVERS: 'dns.google' },
    ],
    [
      'edge',
      'EDGE_FALLBACK_CERT_FILE must be the path of a readable PEM file containing a certificate, got "/nonexistent.pem" (ENOENT)',
      { ...edge, EDGE_FALLBACK_CERT_FILE: '/nonexistent.pem' },
    ],
    ['edge', 'REDIS_URL must be a URL starting with redis:// or rediss://', { ...edge, REDIS_URL: 'http://127.0.0.1:6379' }],
    ['edge', 'CERTFLEET_PREFIX must be a key prefix of 1-48 letters, digits, "_" or "-", got "a:b"', { ...edge, CERTFLEET_PREFIX: 'a:b' }],
    ['issuer', 'ACME_DIRECTORY_URL is required', base],
    ['issuer', 'ACME_EMAIL must be an e-mail address, got "not-an-address"', { ...issuer, ACME_EMAIL: 'not-an-address' }],
    [
      'issuer',
      'ACME_CA_BUNDLE must be the path of a readable PEM file containing a certificate, got "/etc/hostname" (no CERTIFICATE block in the file)',
      { ...issuer, ACME_CA_BUNDLE: '/etc/hostname' },
    ],
    // Roles that hold private keys refuse to start without the at-rest key, and say how to make one.
    ['edge', `CERTFLEET_KEK_FILE is required: set it to the path of a file of at-rest keys`, { ...edge, CERTFLEET_KEK_FILE: '' }],
    ['issuer', `CERTFLEET_KEK_FILE is required: set it to the path of a file of at-rest keys`, { ...issuer, CERTFLEET_KEK_FILE: '' }],
    ['issuer', HOW_TO_MAKE_A_KEY, { ...issuer, CERTFLEET_KEK_FILE: '' }],
    ['edge', `got "/nonexistent-kek" (ENOENT)`, { ...edge, CERTFLEET_KEK_FILE: '/nonexistent-kek' }],
    [
      'issuer',
      `line 1 holds 16 bytes, not 32: make a key with \`openssl rand -base64 32\``,
      { ...issuer, CERTFLEET_KEK_FILE: shortKeyFile },
    ],
    ['renewer', 'RENEW_TICK must be a duration such as 500ms', { ...base, RENEW_TICK: '5000' }],
    ['dashboard', 'DASHBOARD_TOKEN is required', base],
    [
      'dashboard',
      'DASHBOARD_TOKEN must be a secret of at least 16 characters, got a value of 7 characters',
      { ...base, DASHBOARD_TOKEN: 'hunter2' },
    ],
  ] as const)('%s exits non-zero with: %s', async ([role, message, env], { expect }) => {
    const result = await cli(['run', role], env);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('names the variable a misspelled one was meant to be, beside the error it caused', async () => {
    const result = await cli(['run', 'issuer'], { ...base, ACME_DIRECTORY_ULR: 'https://127.0.0.1:14000/dir' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'certfleet: warning: ACME_DIRECTORY_ULR is set but no certfleet role reads it: did you mean ACME_DIRECTORY_URL?',
    );
    expect(result.stderr).toContain('certfleet: configuration error: ACME_DIRECTORY_URL is required');
  });

  it('logs an unknown variable once when a role starts, with its closest name', async () => {
    // The renewer needs only Redis to be ready; port 1 refuses, so it is stopped at its first log lines.
    const proc = spawnProc('renewer-unknown-variable', process.execPath, [CLI, 'run', 'renewer'], {
      env: { ...process.env, ...base, LOG_LEVEL: 'info', RENEW_TICK: '1s', RENEW_BATHC: '10', REDIS_LOG_NOISE: 'x' },
    });
    try {
      const warning = 'RENEW_BATHC is set but no certfleet role reads it: did you mean RENEW_BATCH?';
      const line = await proc.waitForLog(warning, 20_000);
      expect(line).toContain('"level":40');
      expect(proc.logs(warning)).toHaveLength(1);
      expect(proc.lines.join('\n')).not.toContain('REDIS_LOG_NOISE');
    } finally {
      await proc.stop();
    }
  });

  it('refuses an unknown role with the list of roles', async ({ expect }) => {
    const result = await cli(['run', 'proxy'], base);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown role "proxy": choose one of edge, issuer, renewer, dashboard');
  });
});
