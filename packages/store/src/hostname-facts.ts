import { coveringEntries } from './allowlist.js';
import type { RedisClient } from './connect.js';
import type { HostnameRecord } from './hostnames.js';
import type { BudgetHoldRecord, ValidationErrorRecord } from './issue-records.js';
import { KEPT_VALIDATION_ERRORS } from './issue-records.js';
import type { RedisKeys } from './keys.js';
import { type NameState, nameStateOf } from './name-state.js';

/** What the hostname object shows of a certificate: small hash fields only (no chain, no key, no body read). */
export interface CertificateFacts {
  serial: string;
  notBefore: number;
  notAfter: number;
  issuer: string;
  issuedAt: number;
  renewAt: number | undefined;
  retiredAt: number | undefined;
  /** Set when an RSA twin is served too. */
  rsaSerial: string | undefined;
}

/** Everything the store holds about one name that its hostname object is made of. */
export interface HostnameFacts {
  name: string;
  record: HostnameRecord | null;
  /** The allowlist entry that covers the name (itself, or the nearest `*.suffix`), or null. */
  allowedBy: string | null;
  state: NameState | null;
  certificate: CertificateFacts | null;
  /** From the renewal index (it may have moved ahead of the certificate's own renewAt). */
  renewAt: number | null;
  /** Newest first. */
  validationErrors: ValidationErrorRecord[];
  hold: BudgetHoldRecord | null;
  route: string | null;
}

const CERT_FIELDS = ['serial', 'notBefore', 'notAfter', 'issuer', 'issuedAt', 'renewAt', 'retiredAt', 'rsaSerial'] as const;
const PER_NAME = 6;
/** Names per pipeline on one server: a page of 1,000 goes in one round trip. */
const CHUNK = 1_000;

/**
 * Reads the facts of many names at once: per name, its six keys of its own slot (registration,
 * name-state, certificate fields, validation errors, budget hold, route); over all names, one
 * SMISMEMBER on the allowlist and one ZMSCORE on the renewal index. On one server everything goes
 * in one pipeline per 1,000 names; on a Cluster, one pipeline per name (one slot each), sent together.
 * A page of 1,000 hostnames costs a few round trips, not thousands (bench/hostnames-list.ts).
 */
export function createHostnameFactsReader(redis: RedisClient, keys: RedisKeys) {
  const queue = (pipeline: ReturnType<RedisClient['pipeline']>, name: string) =>
    pipeline
      .hgetall(keys.hostname(name))
      .hgetall(keys.nameState(name))
      .hmget(keys.cert(name), ...CERT_FIELDS)
      .lrange(keys.validationErrors(name), 0, KEPT_VALIDATION_ERRORS - 1)
      .get(keys.budgetHold(name))
      .get(keys.route(name));

  async function perNameResults(names: readonly string[]): Promise<unknown[][]> {
    const unwrap = (results: [Error | null, unknown][] | null) =>
      (results ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
    if (redis.isCluster) {
      return Promise.all(names.map(async (name) => unwrap(await queue(redis.pipeline(), name).exec())));
    }
    const out: unknown[][] = [];
    for (let i = 0; i < names.length; i += CHUNK) {
      const pipeline = redis.pipeline();
      const chunk = names.slice(i, i + CHUNK);
      for (const name of chunk) queue(pipeline, name);
      const flat = unwrap(await pipeline.exec());
      for (let j = 0; j < chunk.length; j += 1) out.push(flat.slice(j * PER_NAME, (j + 1) * PER_NAME));
    }
    return out;
  }

  return async function factsOf(names: readonly string[], now: number): Promise<HostnameFacts[]> {
    if (names.length === 0) return [];
    const candidates = names.map(coveringEntries);
    const [perName, allowed, renewals] = await Promise.all([
      perNameResults(names),
      redis.smismember(keys.allowlist, ...candidates.flat()),
      redis.zmscore(keys.renewals, ...names),
    ]);
    let offset = 0;
    return names.map((name, i) => {
      const covering = candidates[i] ?? [];
      const found = allowed.slice(offset, offset + covering.length).indexOf(1);
      offset += covering.length;
      const [hostname, state, cert, errors, hold, route] = perName[i] ?? [];
      const renewAt = renewals[i];
      return {
        name,
        record: recordOf(name, hostname as Record<string, string>),
        allowedBy: found === -1 ? null : (covering[found] ?? null),
        state: nameStateOf(state as Record<string, string>),
        certificate: certificateOf(cert as (string | null)[]),
        renewAt: renewAt === null || renewAt === undefined ? null : Number(renewAt),
        validationErrors: (errors as string[]).flatMap(validationErrorOf),
        hold: holdOf(hold as string | null, now),
        route: (route as string | null) ?? null,
      };
    });
  };
}

export function recordOf(name: string, hash: Record<string, string>): HostnameRecord | null {
  if (!hash.createdAt) return null;
  return {
    name,
    customMetadata: hash.metadata ? (JSON.parse(hash.metadata) as Record<string, unknown>) : null,
    upstream: hash.upstream || null,
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt ?? hash.createdAt),
    deletedAt: hash.deletedAt ? Number(hash.deletedAt) : null,
  };
}

function certificateOf(fields: (string | null)[]): CertificateFacts | null {
  const [serial, notBefore, notAfter, issuer, issuedAt, renewAt, retiredAt, rsaSerial] = fields;
  if (!serial) return null;
  const num = (value: string | null | undefined) => (value ? Number(value) : undefined);
  return {
    serial,
    notBefore: Number(notBefore),
    notAfter: Number(notAfter),
    issuer: issuer ?? '',
    issuedAt: Number(issuedAt),
    renewAt: num(renewAt),
    retiredAt: num(retiredAt),
    rsaSerial: rsaSerial || undefined,
  };
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function validationErrorOf(text: string): ValidationErrorRecord[] {
  const v = parseJson(text) as Partial<ValidationErrorRecord> | null;
  return v && typeof v.at === 'number' && typeof v.type === 'string' && typeof v.detail === 'string'
    ? [{ at: v.at, type: v.type, detail: v.detail }]
    : [];
}

export function holdOf(text: string | null, now: number): BudgetHoldRecord | null {
  const v = parseJson(text) as Partial<BudgetHoldRecord> | null;
  if (!v || typeof v.budget !== 'string' || typeof v.until !== 'number' || typeof v.at !== 'number' || v.until <= now) return null;
  return { budget: v.budget, until: v.until, at: v.at };
}
