import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { cli } from '../support/certfleet.js';

const kekDir = mkdtempSync(join(tmpdir(), 'certfleet-kek-'));
const kekFile = join(kekDir, 'kek');
writeFileSync(kekFile, `${randomBytes(32).toString('base64')}\n`);
// Redis on port 1 refuses: a role that got past its configuration would not start either, but
// the configuration is read first, so each case ends at its error.
const base = { REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'silent', CERTFLEET_KEK_FILE: kekFile };
const issuer = { ...base, ACME_DIRECTORY_URL: 'https://127.0.0.1:14000/dir' };
const URL_WITH_PASSWORD = 'https://hook:hunter22@panel.example/hooks';

describe.concurrent('webhook configuration, as an operator meets it', () => {
  it.for([
    [
      'issuer',
      `WEBHOOK_SECRET is required when WEBHOOK_URLS is set (https://hook:***@panel.example/hooks)`,
      { ...issuer, WEBHOOK_URLS: URL_WITH_PASSWORD },
    ],
    ['renewer', 'WEBHOOK_SECRET is required when WEBHOOK_URLS is set', { ...base, WEBHOOK_URLS: URL_WITH_PASSWORD }],
    [
      'issuer',
      // The item at fault, its password masked (the whole value is masked from its first // to its last @).
      '("ftp://hook:***@files.example/" is not http:// or https://)',
      { ...issuer, WEBHOOK_URLS: 'https://ok.example/,ftp://hook:hunter22@files.example/', WEBHOOK_SECRET: 'a-secret-long-enough' },
    ],
    [
      'issuer',
      'WEBHOOK_SECRET must be a secret of at least 16 characters, got a value of 8 characters',
      { ...issuer, WEBHOOK_URLS: 'https://panel.example/hooks', WEBHOOK_SECRET: 'hunter22' },
    ],
    [
      'renewer',
      'WEBHOOK_BACKOFF must be a duration such as 500ms, 15s, 5m, 12h or 1d, from 10ms to 1h, got "soon"',
      { ...base, WEBHOOK_URLS: 'https://panel.example/hooks', WEBHOOK_SECRET: 'a-secret-long-enough', WEBHOOK_BACKOFF: 'soon' },
    ],
  ] as const)('%s exits 2 with: %s', async ([role, message, env], { expect }) => {
    const result = await cli(['run', role], env);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(result.stderr).not.toContain('hunter22');
  });
});
