import { createHash } from 'node:crypto';

// Redis Cluster rules for every key and every command (REDIS_CLUSTER_NODES runs certfleet on one):
// - A multi-key command, a MULTI and a Lua script touch keys of one slot only: keys that must
//   change together carry the same hash tag (`{name}` for a name's keys, `{ca:NAME}` for an
//   order's budgets, `{queue}` for BullMQ). Anything else is written key by key, in an order
//   that a crash between two writes leaves harmless, and says so.
// - A pipeline (not atomic anyway) must not span keys of different slots: ioredis refuses one
//   whose keys live on different masters. Send such commands separately (they still go out
//   together: ioredis writes a command without waiting for the previous answer).
// - Do not put many unrelated keys under one tag: its slot, and its master, becomes hot.
// - SCAN and KEYS see one master only: iterate `cluster.nodes('master')`. Sets such as
//   `routes` exist so that listing never needs a SCAN.
// - Pub/sub channels are not keys: a PUBLISH reaches subscribers on every node.

/**
 * The whole Redis key model, in one place. Every key starts with the deployment's prefix, so two
 * prefixes on one Redis never see each other. A name's own keys carry the name as a hash tag
 * (`{shop.example}`), so that everything about one name lands in one Redis Cluster slot.
 */
export function redisKeys(prefix: string) {
  return {
    prefix,
    /** Hash: one name's certificate as small fields (serial, dates, chain id, renewal, retirement); see certificate-record.ts. */
    cert: (name: string) => `${prefix}:cert:{${name}}`,
    /** String (binary): one name's leaf (DER) and private key (sealed), and its RSA twin's. */
    certBody: (name: string) => `${prefix}:cert-body:{${name}}`,
    /** String: a CA's intermediate chain (PEM), stored once by its SHA-256 (first 32 hex digits) and named by the certificates it issued. */
    chain: (sha256: string) => `${prefix}:chain:${sha256}`,
    /** Sorted set: name -> when its certificate should be renewed (ms since epoch). */
    renewals: `${prefix}:renewals`,
    /** Sorted set: name -> when to ask the CA for its renewal window again (RFC 9773 Retry-After). */
    ariPolls: `${prefix}:ari-polls`,
    /** Sorted set: name -> when an edge last served it (sampled: at most once per interval per edge). */
    served: `${prefix}:served`,
    /** Hash: why certificates were retired (left-policy, idle) -> how many, ever. */
    retirements: `${prefix}:retirements`,
    /** Sorted set: name -> when its certificate expires (ms since epoch); the inventory. */
    inventory: `${prefix}:inventory`,
    /** Set: the names the allowlist policy accepts: exact names, and `*.suffix` entries for every name below. */
    allowlist: `${prefix}:allowlist`,
    /** String with a TTL: the fleet's current policy decision for a name. */
    decision: (name: string) => `${prefix}:decision:{${name}}`,
    /** String with a TTL: held by the one process evaluating a name's policy. */
    decisionLock: (name: string) => `${prefix}:decision-lock:{${name}}`,
    /** Hash: policy -> its last definite answer for a name, used while the policy's source is down. */
    policyMemory: (name: string) => `${prefix}:policy-memory:{${name}}`,
    /** Hash: a name's issuance state (issuing, cooling down, failed), attempts, last error. */
    nameState: (name: string) => `${prefix}:name-state:{${name}}`,
    /** String with a TTL: a CA paused for the whole fleet (a 429's Retry-After, an outage). */
    caPause: (ca: string) => `${prefix}:ca-pause:${ca}`,
    /** String with a TTL: no CA can take a visitor's order until then; edges serve the fallback at once. */
    issuanceBlocked: `${prefix}:issuance-blocked`,
    /** Hashes: the token buckets (abuse limits, CA budgets), one key per named budget. */
    buckets: budgetKeys(prefix),
    /** String with a TTL: the tls-alpn-01 answer (certificate and sealed key, JSON) for a name being validated. */
    alpnChallenge: (name: string) => `${prefix}:alpn-challenge:{${name}}`,
    /** Pub/sub channel: a name's tls-alpn-01 answer was set or removed. */
    alpnChanged: `${prefix}:events:alpn-changed`,
    /** String with a TTL: the key authorization answering one http-01 token. */
    challenge: (token: string) => `${prefix}:challenge:${token}`,
    /** Hash: one ACME account (sealed key, URL, directory) per CA directory. */
    account: (directoryUrl: string) => `${prefix}:acme-account:${createHash('sha256').update(directoryUrl).digest('hex').slice(0, 16)}`,
    /** String (JSON): the self-signed fallback certificate every edge shares, its key sealed. */
    fallback: `${prefix}:fallback`,
    /** String (JSON): the TLS session-ticket keys every edge shares (next, current, previous; each sealed) and when they rotated. */
    ticketKeys: `${prefix}:tls-ticket-keys`,
    /** String with a TTL: a lease that lets one process of a fleet do a job at a time. */
    lease: (job: string) => `${prefix}:lease:${job}`,
    /** String: a name's upstream override (an http(s) URL), set by `certfleet routes set`. */
    route: (name: string) => `${prefix}:route:{${name}}`,
    /** Set: the names that have an upstream override, for `certfleet routes ls`. */
    routes: `${prefix}:routes`,
    /** Pub/sub channel: a name's upstream override was set or removed. */
    routeChanged: `${prefix}:events:route-changed`,
    /** Pub/sub channel: a name's certificate was stored or removed. */
    certChanged: `${prefix}:events:cert-changed`,
    /** Hash: a hostname registered through the API or CLI (metadata, upstream, status, created/updated/deleted). */
    hostname: (name: string) => `${prefix}:hostname:{${name}}`,
    /** Sorted set (every score 0, ordered by name): every registered hostname, for cursor pages and prefix search. */
    hostnames: `${prefix}:hostnames`,
    /** Sorted set (every score 0): the registered hostnames in one status (pending, active, failed, retired). */
    hostnamesByStatus: (status: string) => `${prefix}:hostnames-by-status:${status}`,
    /** List (newest first, the last few): a name's failed validations as {at, type, detail} JSON. */
    validationErrors: (name: string) => `${prefix}:validation-errors:{${name}}`,
    /** String with a TTL: the CA budget that holds a name's order back, JSON {budget, until, at}. */
    budgetHold: (name: string) => `${prefix}:budget-hold:{${name}}`,
    /** Stream (capped): who changed which hostname, when (token id, never the token). */
    audit: `${prefix}:audit`,
    /** SCAN patterns of the kinds of key that hold key material (`certfleet keys rotate`). */
    scan: {
      certs: `${prefix}:cert:*`,
      accounts: `${prefix}:acme-account:*`,
      alpnChallenges: `${prefix}:alpn-challenge:*`,
    },
    /** Prefix handed to BullMQ for its queues; the `{queue}` hash tag keeps a queue in one Cluster slot. */
    queuePrefix: `${prefix}:{queue}`,
  } as const;
}

export type RedisKeys = ReturnType<typeof redisKeys>;

/**
 * The token buckets' keys (hashes: tokens, ts), named after the limit each one mirrors, so
 * callers never spell a bucket's key. `ca` is the CA's configured name.
 */
export function budgetKeys(prefix: string) {
  const bucket = (name: string) => `${prefix}:bucket:${name}`;
  // One order takes its CA's buckets together in one script, so they share the CA's hash tag
  // (one slot per CA: orders are few, a slot per CA is never hot). Every other bucket is taken
  // alone or in a sequence (see @certfleet/budget takeAll) and is spread by its own key.
  const ofCa = (ca: string, name: string) => bucket(`{ca:${ca}}:${name}`);
  return {
    /** New orders per ACME account (Let's Encrypt: 300 / 3 h). */
    caOrders: (ca: string) => ofCa(ca, 'orders'),
    /** The share of a CA's orders that renewals not exempt through ARI may use. */
    caRenewals: (ca: string) => ofCa(ca, 'renewals'),
    /** Certificates per registered domain (50 / 7 d). */
    registeredDomain: (ca: string, domain: string) => ofCa(ca, `domain:${domain}`),
    /** Certificates per exact set of names (5 / 7 d), in any order. */
    nameSet: (ca: string, names: readonly string[]) => ofCa(ca, `name-set:${[...names].sort().join(',')}`),
    /** Failed authorizations per name per account (5 / h); taken alone, in the name's slot. */
    failedAuthz: (ca: string, name: string) => bucket(`failed-authz:${ca}:{${name}}`),
    /** New names one client (an IPv4 address, an IPv6 /64) may make the fleet look up. */
    newNamesPerClient: (client: string) => bucket(`new-names-ip:${client}`),
    /** New names the whole fleet looks up. */
    newNamesFleet: bucket('new-names-fleet'),
  } as const;
}

export type BudgetKeys = ReturnType<typeof budgetKeys>;
