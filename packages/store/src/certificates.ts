import type { RedisClient } from './connect.js';
import type { ChainStore } from './chains.js';
import {
  type CertificateRecord,
  detailsOf,
  holdsCertificate,
  LEGACY_FIELDS,
  RETIREMENT_FIELDS,
  RSA_FIELDS,
  recordOf,
  withKeys,
} from './certificate-record.js';
import { noDurability, type Durability } from './durability.js';
import type { RedisKeys } from './keys.js';
import type { SealedValues } from './sealed-values.js';

/** A certificate as certfleet stores it: the full chain as issued, its key and what we need to serve and renew it. */
export interface StoredCertificate {
  /** The name it was requested for (the lookup key). */
  name: string;
  /** Every DNS name in the certificate. */
  names: string[];
  /** Leaf first, then intermediates, PEM. */
  chainPem: string;
  /** PKCS#8 PEM. Never logged, never in a job payload; sealed in Redis (see certificate-record.ts). */
  keyPem: string;
  /** Hexadecimal, upper case, as openssl prints it. */
  serial: string;
  notBefore: number;
  notAfter: number;
  /** The issuing CA's common name (or full subject when it has none). */
  issuer: string;
  issuedAt: number;
  /** The CA (its configured name) that issued it. */
  ca?: string | undefined;
  /** Its RFC 9773 certificate id, sent as `replaces` when it is renewed. */
  ariId?: string | undefined;
  /** When it is due for renewal, as scheduled at issuance (the renewal index may move ahead of it while a renewal is pending). */
  renewAt?: number | undefined;
  /** Set when the certificate will not be renewed (the name left the policy): kept until it expires, then removed. */
  retiredAt?: number | undefined;
  retiredReason?: string | undefined;
  retiredKind?: RetirementKind | undefined;
  /** A second certificate for the same name on an RSA key, served to clients that do not offer ECDSA. */
  rsa?: { chainPem: string; keyPem: string; serial: string; notAfter: number } | undefined;
}

/** Why a certificate was not renewed: the name left the domain policy, or no edge served it for the idle period. */
export type RetirementKind = 'left-policy' | 'idle';
export const RETIREMENT_KINDS: readonly RetirementKind[] = ['left-policy', 'idle'];

/** A stored certificate without its private keys: what a reader that holds no key material may see. */
export type CertificateDetails = Omit<StoredCertificate, 'keyPem' | 'rsa'> & {
  rsa?: Omit<NonNullable<StoredCertificate['rsa']>, 'keyPem'> | undefined;
};

/** What the inventory shows of a certificate: everything but the key and the chain. */
export type CertificateSummary = Omit<StoredCertificate, 'keyPem' | 'chainPem' | 'rsa' | 'ca' | 'ariId' | 'renewAt'>;

export interface CertificateStore {
  /** The certificate with its private keys opened: needs the store's keyring once keys are sealed. */
  get(name: string): Promise<StoredCertificate | null>;
  /** The certificate without its private keys: works without a keyring (`certs show`, `domains status`). */
  describe(name: string): Promise<CertificateDetails | null>;
  /**
   * Stores the certificate, schedules its renewal at `renewAt` and tells every edge. A name
   * never served before counts as served at its first issuance (idle tracking starts there).
   */
  save(cert: StoredCertificate, renewAt: number): Promise<void>;
  /** Moves a stored certificate's renewal to `renewAt` (after the CA suggested a window). */
  reschedule(name: string, renewAt: number): Promise<void>;
  /**
   * Stops renewing the name; the certificate is served until it expires, then removed. `kind`
   * is counted (see `retirementCounts`), `reason` is shown to the operator.
   */
  retire(name: string, kind: RetirementKind, reason: string, now: number): Promise<void>;
  /** How many certificates were ever retired, by kind. */
  retirementCounts(): Promise<Record<RetirementKind, number>>;
  /** Removes retired certificates that have expired by `now` (at most `limit`); returns their names. */
  removeExpiredRetired(now: number, limit: number): Promise<string[]>;
  remove(name: string): Promise<boolean>;
  /** Names with a certificate, soonest expiry first. */
  list(offset: number, count: number): Promise<CertificateSummary[]>;
  count(): Promise<number>;
}

/** `durability` runs after each save, before it returns (see durability.ts: a replica's acknowledgement). */
export function createCertificateStore(
  redis: RedisClient,
  keys: RedisKeys,
  chains: ChainStore,
  sealed: SealedValues,
  durability: Durability = noDurability,
): CertificateStore {
  /** The name's hash and body, in one round trip (one slot). */
  async function read(name: string): Promise<CertificateRecord | null> {
    const results = (await redis.pipeline().hgetall(keys.cert(name)).getBuffer(keys.certBody(name)).exec()) ?? [];
    const failed = results.find(([error]) => error)?.[0];
    if (failed) throw failed;
    const record = { hash: (results[0]?.[1] ?? {}) as Record<string, string>, body: (results[1]?.[1] ?? null) as Buffer | null };
    return holdsCertificate(record) ? record : null;
  }

  async function describe(name: string): Promise<CertificateDetails | null> {
    const record = await read(name);
    return record && detailsOf(name, record, chains);
  }

  async function get(name: string): Promise<StoredCertificate | null> {
    const record = await read(name);
    return record && withKeys(await detailsOf(name, record, chains), record, sealed);
  }

  async function remove(name: string): Promise<boolean> {
    // Separate commands, sent together, not a pipeline: the name's hash and body, and the indexes, live in
    // different Cluster slots (ioredis refuses a pipeline across masters). Not atomic before either.
    const [removed] = await Promise.all([
      redis.del(keys.cert(name), keys.certBody(name)),
      redis.zrem(keys.renewals, name),
      redis.zrem(keys.ariPolls, name),
      redis.zrem(keys.served, name),
      redis.zrem(keys.inventory, name),
      redis.publish(keys.certChanged, name),
    ]);
    return removed > 0;
  }

  return {
    get,
    describe,
    async save(cert, renewAt) {
      // Certificate first, indexes after: a crash in between leaves a served certificate that
      // the next save re-indexes, never an index entry without a certificate. Not MULTI, because
      // the indexes live in other Redis Cluster slots than the name's own hash.
      const key = keys.cert(cert.name);
      // Sealed, and the chain stored, before the hash names them.
      const { fields, body } = await recordOf(cert, renewAt, chains, sealed);
      // A name's hash and body share a slot: MULTI keeps them consistent. A new certificate is
      // never retired; the fields of a record written before bodies go.
      const write = redis
        .multi()
        .hset(key, fields)
        .set(keys.certBody(cert.name), body)
        .hdel(key, ...RETIREMENT_FIELDS, ...LEGACY_FIELDS);
      if (!cert.rsa) write.hdel(key, ...RSA_FIELDS);
      await write.exec();
      // One command per index, sent together (each index is a slot of its own: no pipeline).
      await Promise.all([
        redis.zadd(keys.renewals, renewAt, cert.name),
        redis.zadd(keys.inventory, cert.notAfter, cert.name),
        // Idle tracking starts at the first issuance: a name no edge ever serves is idle from then.
        redis.zadd(keys.served, 'NX', cert.issuedAt, cert.name),
        redis.publish(keys.certChanged, cert.name),
      ]);
      // One WAIT covers the certificate and its index entries (WAIT counts every earlier write of the connection).
      await durability.afterWrite();
    },
    async reschedule(name, renewAt) {
      await redis.hset(keys.cert(name), 'renewAt', String(renewAt));
      await redis.zadd(keys.renewals, renewAt, name);
    },
    async retire(name, kind, reason, now) {
      await redis.hset(keys.cert(name), { retiredAt: String(now), retiredReason: reason, retiredKind: kind });
      // Three slots: separate commands, sent together.
      await Promise.all([redis.zrem(keys.renewals, name), redis.zrem(keys.ariPolls, name), redis.hincrby(keys.retirements, kind, 1)]);
    },
    async retirementCounts() {
      const counts = await redis.hgetall(keys.retirements);
      return Object.fromEntries(RETIREMENT_KINDS.map((kind) => [kind, Number(counts[kind] ?? 0)])) as Record<RetirementKind, number>;
    },
    async removeExpiredRetired(now, limit) {
      // Expired certificates that were not retired (a renewal that kept failing) stay in the
      // inventory, soonest first: page past them, or retired ones behind `limit` of them would
      // never be reached. Bounded, so one call never walks a huge backlog.
      const removed: string[] = [];
      let offset = 0;
      for (let page = 0; page < 10 && removed.length < limit; page += 1) {
        const expired = await redis.zrangebyscore(keys.inventory, '-inf', now, 'LIMIT', offset, limit);
        for (const name of expired) {
          if (removed.length < limit && (await redis.hexists(keys.cert(name), 'retiredAt'))) {
            await remove(name);
            removed.push(name);
          } else offset += 1;
        }
        if (expired.length < limit) break;
      }
      return removed;
    },
    remove,
    async list(offset, count) {
      const names = await redis.zrange(keys.inventory, offset, offset + count - 1);
      // One HMGET per name, sent together: each name's hash is in its own Cluster slot, so no pipeline.
      const rows = await Promise.all(
        names.map((name) =>
          redis.hmget(
            keys.cert(name),
            'names',
            'serial',
            'notBefore',
            'notAfter',
            'issuer',
            'issuedAt',
            'retiredAt',
            'retiredReason',
            'retiredKind',
          ),
        ),
      );
      return names.flatMap((name, i) => {
        const [names, serial, notBefore, notAfter, issuer, issuedAt, retiredAt, retiredReason, retiredKind] = rows[i] ?? [];
        if (!serial) return [];
        return [
          {
            name,
            names: JSON.parse(names ?? '[]') as string[],
            serial,
            notBefore: Number(notBefore),
            notAfter: Number(notAfter),
            issuer: issuer ?? '',
            issuedAt: Number(issuedAt),
            retiredAt: retiredAt ? Number(retiredAt) : undefined,
            retiredReason: retiredReason ?? undefined,
            retiredKind: (retiredKind as RetirementKind | null) ?? undefined,
          },
        ];
      });
    },
    count: () => redis.zcard(keys.inventory),
  };
}
