import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BudgetClaim, takeAll } from '@certfleet/budget';
import { createIssueQueue } from '@certfleet/queue';
import { createStore, redisKeys } from '@certfleet/store';
import type { Cluster } from 'ioredis';
import { cli, newPrefix } from '../support/certfleet.js';
import { freePort } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake, httpsGet, normalSerial } from '../support/tls-client.js';
import { startNamedUpstream, type NamedUpstream } from '../support/upstream.js';
import { until } from '../support/wait.js';

/** Pebble's certificates live this long here, so an ARI renewal happens while the other flows run. */
const VALIDITY_SECONDS = 30;
/** Certificates per registered domain: the third order for one domain is refused within the test. */
const DOMAIN_BUDGET = 2;
const HOUR = 3_600_000;

const SKELETON = 'shop.example.com';
const RENEWED = 'renew.example.org';
const BUDGET_NAMES = ['a.example.net', 'b.example.net', 'c.example.net'];

// Allowed by a suffix entry: removing the entry takes the name out of the policy, and the issuer
// retires it at its renewal (removing a registered hostname would retire it at once instead).
const LEAVING = 'shop.leaving.example.org';
const LEAVING_ENTRY = '*.leaving.example.org';

/** Redis Cluster's slot of `key`: CRC16 (XMODEM) of its hash tag, modulo 16384. */
function slotOf(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16_384;
}

/** The master of `slot` as `redis-cli --cluster create` splits the slots over three masters. */
const thirdOf = (slot: number) => (slot <= 5_460 ? 0 : slot <= 10_922 ? 1 : 2);

/** The index keys a certificate's save, retirement and removal write with one another. */
const indexKeys = (prefix: string) => {
  const keys = redisKeys(prefix);
  return [keys.renewals, keys.inventory, keys.retirements];
};

/**
 * A prefix whose indexes lie on three different masters, so that writing them in one pipeline
 * would fail every run (ioredis refuses a pipeline across masters), not two runs in three.
 */
function prefixSpreadOverMasters(): string {
  for (;;) {
    const prefix = newPrefix('cluster');
    if (new Set(indexKeys(prefix).map((key) => thirdOf(slotOf(key)))).size === 3) return prefix;
  }
}

interface Shown {
  serial: string;
  ariId: string;
  notAfter: number;
}

/**
 * The whole fleet on a Redis Cluster of three masters (REDIS_CLUSTER_NODES), one stack for every
 * flow: a first request, a route, a CA budget, an ARI renewal, and the CLI commands they use.
 * Every multi-key command, pipeline and Lua script of those flows must stay in one slot (or, for a
 * pipeline, on one master): a CROSSSLOT error or ioredis's refusal of a pipeline spanning masters
 * fails a flow here.
 */
describe('certfleet on a Redis Cluster of three masters', () => {
  let stack: Stack;
  let cluster: Cluster;
  let routed: NamedUpstream;
  let routedPort: number;

  beforeAll(async () => {
    const upstreamPort = await freePort();
    routed = await startNamedUpstream('127.0.0.2', upstreamPort);
    stack = await startStack({
      topology: 'cluster',
      prefix: prefixSpreadOverMasters(),
      edges: 1,
      issuers: 1,
      renewer: true,
      proxy: true,
      validitySeconds: VALIDITY_SECONDS,
      env: {
        RENEW_TICK: '1s',
        ACME_BUDGET_REGISTERED_DOMAIN: `${DOMAIN_BUDGET}/1h`,
        // One order token an hour: the order bucket's count only moves when an order takes from it.
        ACME_BUDGET_ORDERS: '100/100h',
        EDGE_ISSUE_WAIT: '30s',
      },
    });
    cluster = stack.cluster!.client();
    routedPort = upstreamPort;
  });
  afterAll(async () => {
    await stack?.stop();
    await routed?.close();
  });

  const run = async (args: string[]) => {
    const result = await cli(args, stack.env);
    expect(result.code, `certfleet ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  const show = async (name: string) => JSON.parse(await run(['certs', 'show', name, '--json'])) as Shown;
  const edge = () => stack.edges[0]!;
  /** When the certificate of the name that leaves expires (read at its issuance). */
  let leavingNotAfter = 0;

  it("serves a visitor's first request to an allowed name over a certificate from the CA", async () => {
    await run(['domains', 'add', SKELETON, RENEWED, LEAVING_ENTRY]);
    const response = await httpsGet(edge().ports.httpsPort, SKELETON, '/', stack.rootPem);
    expect(response.status).toBe(200);
    expect(response.body).toBe('hello from upstream\n');
    // The names to be renewed and retired are issued now, so that happens while the other flows run.
    for (const name of [RENEWED, LEAVING]) expect((await handshake(edge().ports.httpsPort, name, stack.rootPem)).authorized).toBe(true);
    leavingNotAfter = (await show(LEAVING)).notAfter;
    await run(['domains', 'rm', LEAVING_ENTRY]);
    const listed = JSON.parse(await run(['certs', 'ls', '--json'])) as { name: string; serial: string }[];
    expect(listed.map((c) => c.name).sort()).toEqual([SKELETON, RENEWED, LEAVING].sort());
    // The stored certificate is the one served, unless its ARI renewal already came: Pebble's
    // window for a 30-second certificate starts at issuance.
    const stored = normalSerial((await show(SKELETON)).serial);
    const renewed = stack.issuers[0]!.logs('certificate renewed').some((r) => r.domain === SKELETON);
    expect(stored === response.serial || renewed, `stored ${stored}, served ${response.serial}, renewed since: ${renewed}`).toBe(true);
    // A name not allowed gets the fallback.
    expect((await handshake(edge().ports.httpsPort, 'stranger.example.com')).subjectaltname).toBe('DNS:certfleet-fallback.invalid');
  });

  it('proxies a name to the upstream that certfleet routes set gave it, and lists the route', async () => {
    const url = `http://127.0.0.2:${routedPort}`;
    expect(await run(['routes', 'set', SKELETON, url])).toBe(`${SKELETON} -> ${url}\n`);
    expect(JSON.parse(await run(['routes', 'ls', '--json']))).toEqual([{ name: SKELETON, url }]);
    const answer = await until(
      'the route is followed',
      async () => {
        const response = await httpsGet(edge().ports.httpsPort, SKELETON, '/routed', stack.rootPem);
        return response.status === 200 && response.body.startsWith('{') && (JSON.parse(response.body) as { server: string; path: string });
      },
      10_000,
      200,
    );
    expect(answer).toMatchObject({ server: '127.0.0.2', path: '/routed' });
  });

  it('refuses the order over the registered-domain budget and delays its job, taking no order token', async () => {
    const [first, second, third] = BUDGET_NAMES as [string, string, string];
    await run(['domains', 'add', '--issue', first, second]);
    const store = createStore(cluster, stack.prefix, { keyring: stack.keyring });
    await until(
      'two names issued',
      async () => Boolean((await store.certificates.get(first)) && (await store.certificates.get(second))),
      30_000,
      250,
    );
    const ordersKey = redisKeys(stack.prefix).buckets.caOrders('default');
    const ordersBefore = await cluster.hget(ordersKey, 'tokens');
    await run(['domains', 'add', '--issue', third]);
    const issuer = stack.issuers[0]!;
    const refused = (await until(
      'the budget refuses the third order',
      () => issuer.logs('CA budget spent; trying the next CA').find((r) => r.domain === third),
      20_000,
      100,
    )) as { bucket: string };
    expect(refused.bucket).toBe(redisKeys(stack.prefix).buckets.registeredDomain('default', 'example.net'));
    await until(
      'the job is delayed',
      () => issuer.logs('no CA can take the order now; job delayed').some((r) => r.domain === third),
      5_000,
      100,
    );
    const queue = createIssueQueue({ connection: cluster, prefix: store.queuePrefix });
    try {
      expect(await queue.getDelayedCount()).toBeGreaterThanOrEqual(1);
    } finally {
      await queue.close();
    }
    // All or nothing: the refused take left the CA's order bucket as it was (it refills hourly).
    expect(await cluster.hget(ordersKey, 'tokens')).toBe(ordersBefore);
    expect(await store.certificates.get(third)).toBeNull();
  });

  it('renews a short-lived certificate in its ARI window, naming the one it replaces', async () => {
    const before = await show(RENEWED);
    await until(
      'the certificate is renewed',
      async () => {
        const shown = await show(RENEWED);
        return shown.serial !== before.serial && shown;
      },
      VALIDITY_SECONDS * 1_000,
      500,
    );
    expect(Date.now()).toBeLessThan(before.notAfter);
    const orders = stack
      .proxy!.newOrders()
      .map((r) => r.payload as { identifiers: { value: string }[]; replaces?: string })
      .filter((o) => o.identifiers[0]?.value === RENEWED);
    // Every renewal names the certificate it replaces (ARI-exempt from the budgets), this one too.
    expect(orders.slice(1).every((o) => typeof o.replaces === 'string')).toBe(true);
    expect(orders.map((o) => o.replaces)).toContain(before.ariId);
    // The edge serves it (or, with 30-second certificates, the next renewal's, stored by then).
    await until(
      'the edge serves the new certificate',
      async () => {
        const served = (await handshake(edge().ports.httpsPort, RENEWED, stack.rootPem)).serial;
        return served !== normalSerial(before.serial) && served === normalSerial((await show(RENEWED)).serial);
      },
      10_000,
      200,
    );
  });

  it('retires a name that left the allowlist at its renewal, and removes it once expired', async () => {
    // Retired at its renewal, as the issuer says (the retired state itself lasts only until the
    // 30-second certificate expires and is removed, which may be over before this test starts).
    const retired = (await until(
      'the name that left is retired',
      () => stack.issuers[0]!.logs('certificate retired: not renewed, kept until it expires').find((r) => r.domain === LEAVING),
      VALIDITY_SECONDS * 1_000,
      500,
    )) as { kind: string; reason: string };
    expect(retired).toMatchObject({ kind: 'left-policy', reason: expect.stringMatching(/^no longer allowed/) });
    await until(
      'the expired retired certificate is removed',
      async () => !(JSON.parse(await run(['certs', 'ls', '--json'])) as { name: string }[]).some((c) => c.name === LEAVING),
      Math.max(0, leavingNotAfter - Date.now()) + 15_000,
      500,
    );
    expect(
      JSON.parse(await run(['certs', 'ls', '--json']))
        .map((c: { name: string }) => c.name)
        .sort(),
    ).toEqual([SKELETON, RENEWED, ...BUDGET_NAMES.slice(0, 2)].sort());
  });

  it("takes a client's and the fleet's new-name buckets one slot after the other, all or nothing", async () => {
    const keys = redisKeys(newPrefix()).buckets;
    const perClient: BudgetClaim = { key: keys.newNamesPerClient('192.0.2.7'), spec: { capacity: 5, refillIntervalMs: HOUR } };
    const fleet: BudgetClaim = { key: keys.newNamesFleet, spec: { capacity: 1, refillIntervalMs: HOUR } };
    const slot = async (key: string) => Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
    expect(await slot(perClient.key)).not.toBe(await slot(fleet.key));
    expect(await takeAll(cluster, [perClient, fleet])).toMatchObject({ granted: true });
    const taken = await cluster.hgetall(perClient.key);
    expect(taken.tokens).toBe('4');
    // The fleet's bucket refuses: the client's token, taken first, is given back.
    const refused = await takeAll(cluster, [perClient, fleet]);
    expect(refused).toMatchObject({ granted: false, refusedBy: fleet });
    expect(refused.retryAfterMs).toBeGreaterThan(HOUR - 60_000);
    expect(await cluster.hgetall(perClient.key)).toEqual(taken);
  });

  it('spreads the deployment’s keys over at least two masters', async () => {
    const perMaster = await Promise.all(
      cluster.nodes('master').map(async (node) => {
        let count = 0;
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${stack.prefix}:*`, 'COUNT', 1_000);
          cursor = next;
          count += keys.length;
        } while (cursor !== '0');
        return { node: `${node.options.host}:${node.options.port}`, count };
      }),
    );
    console.log('keys per master', JSON.stringify(perMaster));
    // The premise of prefixSpreadOverMasters: the indexes are on three masters indeed.
    const masterOf = async (key: string) => {
      const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
      expect(slot).toBe(slotOf(key));
      return cluster.slots[slot]?.[0];
    };
    expect(new Set(await Promise.all(indexKeys(stack.prefix).map(masterOf))).size).toBe(3);
    expect(perMaster).toHaveLength(3);
    expect(perMaster.filter((m) => m.count > 0).length).toBeGreaterThanOrEqual(2);
  });
});
