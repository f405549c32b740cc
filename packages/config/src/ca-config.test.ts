import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCaConfigs } from './ca-config.js';

const base = { ACME_DIRECTORY_URL: 'https://ca.example/dir' };

function casFile(entry: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'certfleet-cas-')), 'cas.json');
  writeFileSync(file, JSON.stringify([{ name: 'le', directoryUrl: 'https://ca.example/dir', ...entry }]));
  return file;
}

/** The part of the message after the variable or the file entry: the rule, in the same words for both. */
const rule = (message: string) => message.slice(message.indexOf(' must be '));

function messageOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('one CA schema for the environment and ACME_CAS_FILE', () => {
  it.each([0.95, 1, -0.1])('refuses a visitor reserve of %d by both paths, with the same rule', (reserve) => {
    const fromEnv = messageOf(() => loadCaConfigs({ ...base, ACME_VISITOR_RESERVE: String(reserve) }));
    const fromFile = messageOf(() => loadCaConfigs({ ACME_CAS_FILE: casFile({ visitorReserve: reserve }) }));
    expect(fromEnv).toBe(`ACME_VISITOR_RESERVE must be a fraction from 0 to 0.9, e.g. 0.2, got "${reserve}"`);
    expect(fromFile).toMatch(/^ACME_CAS_FILE ".*"\[0\.visitorReserve\] must be /);
    expect(rule(fromFile)).toBe(rule(fromEnv).replace(`"${reserve}"`, String(reserve)));
  });

  it('accepts the same bounds by both paths, with the same default', () => {
    expect(loadCaConfigs({ ...base, ACME_VISITOR_RESERVE: '0.9' })[0]?.visitorReserve).toBe(0.9);
    expect(loadCaConfigs({ ACME_CAS_FILE: casFile({ visitorReserve: 0.9 }) })[0]?.visitorReserve).toBe(0.9);
    expect(loadCaConfigs({ ...base, ACME_VISITOR_RESERVE: '0' })[0]?.visitorReserve).toBe(0);
    expect(loadCaConfigs(base)[0]?.visitorReserve).toBe(0.2);
    expect(loadCaConfigs({ ACME_CAS_FILE: casFile({}) })[0]?.visitorReserve).toBe(0.2);
  });

  it('refuses a malformed bucket by both paths, with the same rule', () => {
    const fromEnv = messageOf(() => loadCaConfigs({ ...base, ACME_BUDGET_ORDERS: '300 per 3h' }));
    const fromFile = messageOf(() => loadCaConfigs({ ACME_CAS_FILE: casFile({ budgets: { orders: '300 per 3h' } }) }));
    expect(rule(fromEnv)).toBe(rule(fromFile));
    expect(rule(fromEnv)).toBe(
      ' must be a bucket written CAPACITY/PERIOD[/REFILL] (e.g. 20/60s: 20 at once, 20 more per minute), got "300 per 3h" (not of that form)',
    );
  });

  it('never shows an EAB key from the file', () => {
    const message = messageOf(() => loadCaConfigs({ ACME_CAS_FILE: casFile({ eab: { kid: 'k', hmacKey: 'secret key!' } }) }));
    expect(message).toContain('[0.eab.hmacKey] must be a base64url HMAC key, got a value of 11 characters');
    expect(message).not.toContain('secret');
  });
});
