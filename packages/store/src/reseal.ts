import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './connect.js';
import { UnknownKeyError, type Keyring } from '@certfleet/sealing';
import { decodeBody, encodeBody } from './certificate-body.js';
import { LEGACY_KEY_FIELDS } from './certificate-record.js';
import type { RedisKeys } from './keys.js';
import { scriptCommand } from './script-command.js';
import { purposes } from './sealed-values.js';
import type { StoredTicketKeys } from './ticket-keys.js';

// Compare-and-set, one key at a time (Redis Cluster: every script touches one key).
// KEYS[1] a hash; ARGV: field, value expected, replacement, ... Sets the fields only if every one
// still holds what was read: a renewal that rewrote the record meanwhile is never undone.
const RESEAL_FIELDS_LUA = `
for i = 1, #ARGV, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then return 0 end
end
for i = 1, #ARGV, 3 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2]) end
return 1
`;
// KEYS[1] a string; ARGV[1] the value expected, ARGV[2] its replacement (the TTL is kept). Binary-safe.
const RESEAL_STRING_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`;

/** The kinds of record that hold key material, as the report counts them. */
export const RESEAL_KINDS = ['certificate', 'account', 'fallback', 'ticket-keys', 'alpn-challenge'] as const;
export type ResealKind = (typeof RESEAL_KINDS)[number];

export interface ResealCounts {
  /** Records of the kind looked at. */
  seen: number;
  /** Sealed again under the current key (or sealed for the first time). */
  resealed: number;
  /** Already under the current key. */
  current: number;
  /** Could not be opened: listed in `problems`. */
  failed: number;
}

export interface ResealReport {
  counts: Record<ResealKind, ResealCounts>;
  /** Each record that could not be opened, and why (the unknown key's id, or tampering). */
  problems: { key: string; reason: string }[];
}

export interface ResealOptions {
  /** Told the counts so far every `every` records, and once at the end. */
  onProgress?: (report: ResealReport) => void;
  every?: number;
  /** SCAN's COUNT hint. */
  batch?: number;
}

/** Attempts per record when a writer keeps changing it under the rotation. */
const MAX_ATTEMPTS = 5;

/** What became of one record: `changed` when a writer replaced it between the read and the write (read it again). */
type Outcome = 'resealed' | 'current' | 'gone' | 'changed';

/** Every master's connection: SCAN walks one server's keys, so a Cluster is walked node by node. */
function serversOf(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * `certfleet keys rotate`: every record holding key material re-sealed under the keyring's
 * current key (plain records written before sealing are sealed).
 *
 * - Resumable: the keys are found by SCAN and a record already under the current key is left
 *   as it is, so running it again finishes what an interrupted run left.
 * - Safe while traffic flows: each record is replaced by compare-and-set (a Lua script over that
 *   one key), read again and retried when a renewal or a ticket rotation rewrote it meanwhile.
 *   A record is only ever replaced whole by another that opens to the same secret: nothing is
 *   lost when the run is interrupted at any point.
 * - A record that cannot be opened (sealed under a key not in the file, or altered) is reported
 *   and skipped; the run goes on.
 */
export function createResealer(redis: RedisClient, keys: RedisKeys, keyring: Keyring) {
  const resealFields = scriptCommand<number>(redis, 'certfleetResealFields', RESEAL_FIELDS_LUA, 1);
  const resealString = scriptCommand<number>(redis, 'certfleetResealString', RESEAL_STRING_LUA, 1);
  /**
   * `value` sealed under the current key; null when it already is. A value written before
   * sealing is sealed as `legacy` reads it.
   */
  const resealed = (value: string, purpose: string, legacy: (plain: string) => string | Buffer = (plain) => plain) => {
    if (!keyring.needsSealing(value)) return null;
    return keyring.seal(keyring.keyIdOf(value) === null ? legacy(value) : keyring.open(value, purpose), purpose);
  };
  const nameIn = (key: string) => key.slice(key.indexOf('{') + 1, key.lastIndexOf('}'));

  /** A certificate: its body's sealed keys, or the key fields of a hash written before bodies. */
  async function certificate(key: string): Promise<Outcome> {
    const name = nameIn(key);
    const bodyKey = keys.certBody(name);
    const stored = await redis.getBuffer(bodyKey);
    if (stored) {
      const body = decodeBody(stored);
      const ecdsa = resealed(body.ecdsa.sealedKey, purposes.certKey(name, 'ecdsa'));
      const rsa = body.rsa && resealed(body.rsa.sealedKey, purposes.certKey(name, 'rsa'));
      if (!ecdsa && !rsa) return 'current';
      const next = encodeBody({
        ecdsa: { ...body.ecdsa, sealedKey: ecdsa ?? body.ecdsa.sealedKey },
        rsa: body.rsa && { ...body.rsa, sealedKey: rsa ?? body.rsa.sealedKey },
      });
      return (await resealString(bodyKey, stored, next)) === 1 ? 'resealed' : 'changed';
    }
    const legacy = await redis.hmget(key, ...LEGACY_KEY_FIELDS.map((k) => k.field));
    if (legacy.every((value) => value === null)) return 'gone';
    const args: string[] = [];
    LEGACY_KEY_FIELDS.forEach(({ field, keyType }, i) => {
      const value = legacy[i];
      const next = value ? resealed(value, purposes.certKey(name, keyType)) : null;
      if (value && next) args.push(field, value, next);
    });
    if (args.length === 0) return 'current';
    // A renewal meanwhile writes a body and removes these fields: the script then finds them changed.
    return (await resealFields(key, ...args)) === 1 ? 'resealed' : 'changed';
  }

  async function account(key: string): Promise<Outcome> {
    const [value, directory] = await redis.hmget(key, 'key', 'directory');
    if (!value) return 'gone';
    if (!directory) throw new Error('the account names no directory, which its key is sealed for');
    const next = resealed(value, purposes.accountKey(directory));
    if (!next) return 'current';
    return (await resealFields(key, 'key', value, next)) === 1 ? 'resealed' : 'changed';
  }

  /** A JSON string whose `fields` hold key material sealed for `purposeOf(key)`. */
  const jsonRecord =
    (fields: readonly string[], purposeOf: (key: string) => string, legacy?: (plain: string) => string | Buffer) =>
    async (key: string): Promise<Outcome> => {
      const raw = await redis.get(key);
      if (raw === null) return 'gone';
      const record = JSON.parse(raw) as Record<string, unknown>;
      let changed = false;
      for (const field of fields) {
        const value = record[field];
        if (typeof value !== 'string') continue;
        const next = resealed(value, purposeOf(key), legacy);
        if (next) {
          record[field] = next;
          changed = true;
        }
      }
      if (!changed) return 'current';
      return (await resealString(key, raw, JSON.stringify(record))) === 1 ? 'resealed' : 'changed';
    };

  const kinds: Record<ResealKind, { pattern: string; reseal: (key: string) => Promise<Outcome> }> = {
    certificate: { pattern: keys.scan.certs, reseal: certificate },
    account: { pattern: keys.scan.accounts, reseal: account },
    fallback: { pattern: keys.fallback, reseal: jsonRecord(['keyPem'], () => purposes.fallbackKey) },
    // A ticket key written before sealing is base64 of its bytes: sealed as the bytes.
    'ticket-keys': {
      pattern: keys.ticketKeys,
      reseal: jsonRecord(
        ['next', 'current', 'previous'] satisfies (keyof StoredTicketKeys)[],
        () => purposes.ticketKey,
        (plain) => Buffer.from(plain, 'base64'),
      ),
    },
    'alpn-challenge': { pattern: keys.scan.alpnChallenges, reseal: jsonRecord(['keyPem'], (key) => purposes.alpnKey(nameIn(key))) },
  };

  return async function resealAll(options: ResealOptions = {}): Promise<ResealReport> {
    const every = options.every ?? 1_000;
    const report: ResealReport = {
      counts: Object.fromEntries(RESEAL_KINDS.map((kind) => [kind, { seen: 0, resealed: 0, current: 0, failed: 0 }])) as Record<
        ResealKind,
        ResealCounts
      >,
      problems: [],
    };
    let done = 0;
    for (const kind of RESEAL_KINDS) {
      const { pattern, reseal } = kinds[kind];
      const counts = report.counts[kind];
      for (const server of serversOf(redis)) {
        for await (const batch of server.scanStream({ match: pattern, count: options.batch ?? 500 })) {
          for (const key of batch as string[]) {
            counts.seen += 1;
            try {
              let outcome: Outcome = 'changed';
              for (let attempt = 0; attempt < MAX_ATTEMPTS && outcome === 'changed'; attempt++) outcome = await reseal(key);
              if (outcome === 'changed')
                throw new Error(`changed under the rotation ${MAX_ATTEMPTS} times in a row: run the rotation again`);
              if (outcome !== 'gone') counts[outcome] += 1;
            } catch (error) {
              counts.failed += 1;
              const reason =
                error instanceof UnknownKeyError
                  ? `sealed under key ${error.keyId}, which is not in the key file`
                  : String((error as Error).message);
              report.problems.push({ key, reason });
            }
            done += 1;
            if (done % every === 0) options.onProgress?.(report);
          }
        }
      }
    }
    options.onProgress?.(report);
    return report;
  };
}
