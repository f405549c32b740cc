import type { RedisClient } from './connect.js';
import { noDurability, type Durability } from './durability.js';
import type { RedisKeys } from './keys.js';

/** A certificate as certfleet stores it: the full chain as issued, its key and what we need to serve and renew it. */
export interface StoredCertificate {
  /** The name it was requested for (the lookup key). */
  name: string;
  /** Every DNS name in the certificate. */
  names: string[];
  /** Leaf first, then intermediates, PEM. */
  chainPem: string;
  /** PKCS#8 PEM. Never logged, never in a job payload. */
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

/** What the inventory shows of a certificate: everything but the key and the chain. */
export type CertificateSummary = Omit<StoredCertificate, 'keyPem' | 'chainPem' | 'rsa' | 'ca' | 'ariId' | 'renewAt'>;

export interface CertificateStore {
  get(name: string): Promise<StoredCertificate | null>;
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
export function createCertificateStore(redis: RedisClient, keys: RedisKeys, durability: Durability = noDurability): CertificateStore {
  async function get(name: string): Promise<StoredCertificate | null> {
    const h = await redis.hgetall(keys.cert(name));
    if (!h.chain || !h.key) return null;
    return {
      name,
      names: JSON.parse(h.names ?? '[]') as string[],
      chainPem: h.chain,
      keyPem: h.key,
      serial: h.serial ?? '',
      notBefore: Number(h.notBefore),
      notAfter: Number(h.notAfter),
      issuer: h.issuer ?? '',
      issuedAt: Number(h.issuedAt),
      ca: h.ca || undefined,
      ariId: h.ariId || undefined,
      renewAt: h.renewAt ? Number(h.renewAt) : undefined,
      retiredAt: h.retiredAt ? Number(h.retiredAt) : undefined,
      retiredReason: h.retiredReason || undefined,
      retiredKind: (h.retiredKind as RetirementKind | undefined) || undefined,
      rsa:
        h.rsaChain && h.rsaKey
          ? { chainPem: h.rsaChain, keyPem: h.rsaKey, serial: h.rsaSerial ?? '', notAfter: Number(h.rsaNotAfter) }
          : undefined,
    };
  }

  async function remove(name: string): Promise<boolean> {
    const [[, removed] = []] =
      (await redis
        .pipeline()
        .del(keys.cert(name))
        .zrem(keys.renewals, name)
        .zrem(keys.ariPolls, name)
        .zrem(keys.served, name)
        .zrem(keys.inventory, name)
        .publish(keys.certChanged, name)
        .exec()) ?? [];
    return removed === 1;
  }

  return {
    get,
    async save(cert, renewAt) {
      // Certificate first, indexes after: a crash in between leaves a served certificate that
      // the next save re-indexes, never an index entry without a certificate. Not MULTI, because
      // the indexes live in other Redis Cluster slots than the name's own hash.
      const key = keys.cert(cert.name);
      const fields = {
        chain: cert.chainPem,
        key: cert.keyPem,
        names: JSON.stringify(cert.names),
        serial: cert.serial,
        notBefore: String(cert.notBefore),
        notAfter: String(cert.notAfter),
        issuer: cert.issuer,
        issuedAt: String(cert.issuedAt),
        ca: cert.ca ?? '',
        ariId: cert.ariId ?? '',
        renewAt: String(renewAt),
      };
      const rsa = cert.rsa
        ? { rsaChain: cert.rsa.chainPem, rsaKey: cert.rsa.keyPem, rsaSerial: cert.rsa.serial, rsaNotAfter: String(cert.rsa.notAfter) }
        : undefined;
      // One name's fields share a slot: MULTI keeps the pair consistent. A new certificate is never retired.
      const write = redis
        .multi()
        .hset(key, rsa ? { ...fields, ...rsa } : fields)
        .hdel(key, 'retiredAt', 'retiredReason', 'retiredKind');
      if (!rsa) write.hdel(key, 'rsaChain', 'rsaKey', 'rsaSerial', 'rsaNotAfter');
      await write.exec();
      await redis
        .pipeline()
        .zadd(keys.renewals, renewAt, cert.name)
        .zadd(keys.inventory, cert.notAfter, cert.name)
        // Idle tracking starts at the first issuance: a name no edge ever serves is idle from then.
        .zadd(keys.served, 'NX', cert.issuedAt, cert.name)
        .publish(keys.certChanged, cert.name)
        .exec();
      // One WAIT covers the certificate and its index entries (WAIT counts every earlier write of the connection).
      await durability.afterWrite();
    },
    async reschedule(name, renewAt) {
      await redis.hset(keys.cert(name), 'renewAt', String(renewAt));
      await redis.zadd(keys.renewals, renewAt, name);
    },
    async retire(name, kind, reason, now) {
      await redis.hset(keys.cert(name), { retiredAt: String(now), retiredReason: reason, retiredKind: kind });
      await redis.pipeline().zrem(keys.renewals, name).zrem(keys.ariPolls, name).hincrby(keys.retirements, kind, 1).exec();
    },
    async retirementCounts() {
      const counts = await redis.hgetall(keys.retirements);
      return Object.fromEntries(RETIREMENT_KINDS.map((kind) => [kind, Number(counts[kind] ?? 0)])) as Record<RetirementKind, number>;
    },
    async removeExpiredRetired(now, limit) {
      const expired = await redis.zrangebyscore(keys.inventory, '-inf', now, 'LIMIT', 0, limit);
      const removed: string[] = [];
      for (const name of expired) {
        if (await redis.hexists(keys.cert(name), 'retiredAt')) {
          await remove(name);
          removed.push(name);
        }
      }
      return removed;
    },
    remove,
    async list(offset, count) {
      const names = await redis.zrange(keys.inventory, offset, offset + count - 1);
      const pipeline = redis.pipeline();
      for (const name of names) {
        pipeline.hmget(
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
        );
      }
      const rows = (await pipeline.exec()) ?? [];
      return names.flatMap((name, i) => {
        const [names, serial, notBefore, notAfter, issuer, issuedAt, retiredAt, retiredReason, retiredKind] = (rows[i]?.[1] ?? []) as (
          | string
          | null
        )[];
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
