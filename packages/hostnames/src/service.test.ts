import { describe, expect, it } from 'vitest';
import type { Actor } from './contract.js';
import { HostnameConflictError, HostnameNotFoundError, InvalidInputError } from './errors.js';
import { certificate, fakeEvents, fakeProvisioner, fakeStore, T0 } from './fakes.js';
import { createHostnameService } from './service.js';

const api: Actor = { kind: 'api', id: '1a2b3c4d' };

function setup(options: { failingEvents?: boolean; now?: number } = {}) {
  const store = fakeStore();
  const queue = fakeProvisioner();
  const events = fakeEvents({ fail: options.failingEvents });
  const warnings: string[] = [];
  const clock = { now: options.now ?? T0 };
  const service = createHostnameService({
    store: store.store,
    queue: queue.provisioner,
    events: events.sink,
    clock: () => clock.now,
    logger: { warn: (_details, message) => warnings.push(message) },
  });
  return { service, store, queue, events, warnings, clock };
}

const errorOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('createHostnameService: create', () => {
  it('normalises the name, registers it pending, allows it, audits the actor and publishes hostname.created', async () => {
    const { service, store, events } = setup();
    const { hostname, created } = await service.create({ hostname: 'Shop.Example.COM.', custom_metadata: { plan: 'pro' } }, api);
    expect(created).toBe(true);
    expect(hostname).toMatchObject({
      hostname: 'shop.example.com',
      status: 'pending',
      certificate: { status: 'none', serial: null, key_types: [] },
      custom_metadata: { plan: 'pro' },
      created_at: new Date(T0).toISOString(),
    });
    expect(store.allowlist.has('shop.example.com')).toBe(true);
    expect(store.forgotten).toContain('shop.example.com');
    expect(store.audit).toEqual([
      expect.objectContaining({ actorKind: 'api', actorId: '1a2b3c4d', action: 'create', hostname: 'shop.example.com' }),
    ]);
    expect(events.published).toEqual([{ type: 'hostname.created', hostname: 'shop.example.com', key: String(T0) }]);
  });

  it('stores an IDN in its punycode form', async () => {
    const { service } = setup();
    expect((await service.create({ hostname: 'bücher.example' }, api)).hostname.hostname).toBe('xn--bcher-kva.example');
  });

  it('is idempotent on the same body (whatever the key order) and refuses another body with a conflict', async () => {
    const { service, store, events } = setup();
    await service.create({ hostname: 'a.example.com', custom_metadata: { x: 1, y: [1, 2] }, upstream: 'http://10.0.0.1:8080' }, api);
    const again = await service.create(
      { hostname: 'A.example.com', upstream: 'http://10.0.0.1:8080', custom_metadata: { y: [1, 2], x: 1 } },
      api,
    );
    expect(again.created).toBe(false);
    expect(store.audit).toHaveLength(1);
    expect(events.published).toHaveLength(1);
    const conflict = await errorOf(service.create({ hostname: 'a.example.com', custom_metadata: { x: 2 } }, api));
    expect(conflict).toBeInstanceOf(HostnameConflictError);
    expect((conflict as HostnameConflictError).status).toBe(409);
  });

  it('sets the route for an upstream and enqueues an order only when issue is true', async () => {
    const { service, store, queue } = setup();
    await service.create({ hostname: 'r.example.com', upstream: 'https://origin.example.net/app' }, api);
    expect(store.routes.get('r.example.com')).toBe('https://origin.example.net/app');
    expect(queue.provisioned).toEqual([]);
    await service.create({ hostname: 'now.example.com', issue: true }, api);
    expect(queue.provisioned).toEqual(['now.example.com']);
  });

  it('refuses bad input with an error naming the field, and writes nothing', async () => {
    const { service, store } = setup();
    for (const [body, field] of [
      [{ hostname: 'localhost' }, 'hostname'],
      [{ hostname: '127.0.0.1' }, 'hostname'],
      [{ hostname: '*.example.com' }, 'hostname'],
      [{ hostname: 'a_b.example.com' }, 'hostname'],
      [{ hostname: 42 }, 'hostname'],
      [{}, 'hostname'],
      [{ hostname: 'ok.example.com', upstream: 'ftp://x' }, 'upstream'],
      [{ hostname: 'ok.example.com', upstream: 'http://user:pw@x' }, 'upstream'],
      [{ hostname: 'ok.example.com', custom_metadata: { big: 'x'.repeat(5_000) } }, 'custom_metadata'],
      [{ hostname: 'ok.example.com', custom_metadata: [1] }, 'custom_metadata'],
      [{ hostname: 'ok.example.com', admin: true }, 'body'],
      ['not an object', 'body'],
    ] as const) {
      const error = await errorOf(service.create(body as never, api));
      expect(error, JSON.stringify(body)).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field, JSON.stringify(body)).toBe(field);
    }
    expect(store.records.size).toBe(0);
    expect(store.audit).toEqual([]);
  });

  it('never fails a create because the event sink failed; it logs instead', async () => {
    const { service, warnings } = setup({ failingEvents: true });
    expect((await service.create({ hostname: 'ev.example.com' }, api)).created).toBe(true);
    expect(warnings).toEqual(['event not published']);
  });
});

describe('createHostnameService: bulkCreate', () => {
  it('answers each item on its own: created, unchanged, duplicates within the call, and errors', async () => {
    const { service, store, queue } = setup();
    await service.create({ hostname: 'old.example.com' }, api);
    const results = await service.bulkCreate(
      [
        { hostname: 'n1.example.com', issue: true },
        { hostname: 'old.example.com' },
        { hostname: 'N1.example.com', issue: true },
        { hostname: 'n1.example.com', custom_metadata: { other: true } },
        { hostname: 'bad_name' },
        'junk',
      ],
      api,
    );
    expect(results.map((r) => [r.hostname, r.result])).toEqual([
      ['n1.example.com', 'created'],
      ['old.example.com', 'unchanged'],
      ['n1.example.com', 'unchanged'],
      ['n1.example.com', 'error'],
      ['bad_name', 'error'],
      [null, 'error'],
    ]);
    expect(results[3]?.error?.type).toBe(new HostnameConflictError('x').type);
    expect(results[4]?.error?.detail).toMatch(/hostname "bad_name" is not a hostname/);
    expect(store.audit.filter((entry) => entry.action === 'create')).toHaveLength(2);
    expect(queue.provisioned).toEqual(['n1.example.com', 'n1.example.com']);
  });

  it('refuses more than 10,000 items at once', async () => {
    const { service } = setup();
    const error = await errorOf(
      service.bulkCreate(
        Array.from({ length: 10_001 }, (_, i) => ({ hostname: `h${i}.example.com` })),
        api,
      ),
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('hostnames');
  });
});

describe('createHostnameService: update, retry, remove', () => {
  it('changes custom_metadata and upstream, keeps the route in step, and audits what changed', async () => {
    const { service, store, clock } = setup();
    await service.create({ hostname: 'u.example.com', upstream: 'http://10.0.0.1' }, api);
    clock.now += 1_000;
    const updated = await service.update('U.example.com', { custom_metadata: { tier: 2 }, upstream: null }, api);
    expect(updated).toMatchObject({ custom_metadata: { tier: 2 }, upstream: null, updated_at: new Date(T0 + 1_000).toISOString() });
    expect(store.routes.has('u.example.com')).toBe(false);
    expect(store.audit.at(-1)).toMatchObject({ action: 'update', summary: 'changed custom_metadata, upstream removed' });
  });

  it('retry clears a failure and enqueues an order', async () => {
    const { service, store, queue } = setup();
    await service.create({ hostname: 'f.example.com' }, api);
    store.states.set('f.example.com', {
      state: 'cooling',
      attempts: 1,
      failures: 1,
      lastError: 'refused',
      lastErrorAt: T0,
      coolUntil: T0 + 60_000,
      ca: 'pebble',
      updatedAt: T0,
    });
    expect((await service.get('f.example.com')).status).toBe('failed');
    const after = await service.update('f.example.com', { retry: true }, api);
    expect(after.status).toBe('pending');
    expect(after.cooldown_until).toBeNull();
    expect(queue.provisioned).toEqual(['f.example.com']);
    expect(store.audit.at(-1)?.action).toBe('retry');
  });

  it('answers not found for a name never registered, and refuses unknown fields', async () => {
    const { service } = setup();
    expect(await errorOf(service.get('nobody.example.com'))).toBeInstanceOf(HostnameNotFoundError);
    expect(await errorOf(service.update('nobody.example.com', {}, api))).toBeInstanceOf(HostnameNotFoundError);
    await service.create({ hostname: 'x.example.com' }, api);
    const error = await errorOf(service.update('x.example.com', { retry: false } as never, api));
    expect((error as InvalidInputError).field).toBe('retry');
  });

  it('delete takes the name off the allowlist and retires it and its certificate; purge removes everything', async () => {
    const { service, store, events } = setup();
    await service.create({ hostname: 'd.example.com' }, api);
    store.certs.set('d.example.com', certificate('d.example.com', T0 + 30 * 86_400_000));
    expect((await service.get('d.example.com')).status).toBe('active');
    const deleted = await service.remove('d.example.com', {}, api);
    expect(deleted?.status).toBe('retired');
    expect(store.allowlist.has('d.example.com')).toBe(false);
    expect(store.retired).toEqual([{ name: 'd.example.com', kind: 'left-policy' }]);
    expect(store.certs.has('d.example.com')).toBe(true);
    // Deleting again changes nothing and publishes nothing more.
    await service.remove('d.example.com', {}, api);
    expect(events.published.filter((e) => e.type === 'hostname.deleted')).toHaveLength(1);
    // The issuer never sees a retired certificate again: the delete announces its retirement, once.
    const retiredEvents = events.published.filter((e) => e.type === 'certificate.retired');
    expect(retiredEvents).toHaveLength(1);
    expect(retiredEvents[0]).toMatchObject({ hostname: 'd.example.com', key: store.certs.get('d.example.com')?.serial });
    expect(await service.remove('d.example.com', { purge: true }, api)).toBeNull();
    expect(store.certs.has('d.example.com')).toBe(false);
    expect(await errorOf(service.get('d.example.com'))).toBeInstanceOf(HostnameNotFoundError);
    // A deleted name can be created again.
    await service.create({ hostname: 'd.example.com' }, api);
  });
});

describe('createHostnameService: list', () => {
  it('pages in name order with a cursor, filters by prefix and status, and lists by expiry', async () => {
    const { service, store } = setup();
    await service.bulkCreate(
      ['a1', 'a2', 'a3', 'b1', 'b2'].map((label) => ({ hostname: `${label}.example.com` })),
      api,
    );
    store.certs.set('b1.example.com', certificate('b1.example.com', T0 + 5 * 86_400_000));
    store.certs.set('a2.example.com', certificate('a2.example.com', T0 + 9 * 86_400_000));
    const first = await service.list({ limit: 2 });
    expect(first.hostnames.map((h) => h.hostname)).toEqual(['a1.example.com', 'a2.example.com']);
    const second = await service.list({ limit: 2, cursor: first.next_cursor ?? '' });
    expect(second.hostnames.map((h) => h.hostname)).toEqual(['a3.example.com', 'b1.example.com']);
    expect((await service.list({ q: 'B' })).hostnames.map((h) => h.hostname)).toEqual(['b1.example.com', 'b2.example.com']);
    expect((await service.list({ status: 'active' })).hostnames.map((h) => h.hostname)).toEqual(['a2.example.com', 'b1.example.com']);
    const soon = await service.list({ expiring_before: T0 + 10 * 86_400_000, limit: 1 });
    expect(soon.hostnames.map((h) => h.hostname)).toEqual(['b1.example.com']);
    const next = await service.list({ expiring_before: T0 + 10 * 86_400_000, limit: 1, cursor: soon.next_cursor ?? '' });
    expect(next.hostnames.map((h) => h.hostname)).toEqual(['a2.example.com']);
  });

  it('refuses a tampered cursor, a cursor of another listing, a bad limit and a q that is not a hostname start', async () => {
    const { service } = setup();
    await service.create({ hostname: 'a.example.com' }, api);
    const fieldOf = async (promise: Promise<unknown>) => ((await errorOf(promise)) as InvalidInputError).field;
    expect(await fieldOf(service.list({ cursor: 'not*base64' }))).toBe('cursor');
    expect(await fieldOf(service.list({ cursor: Buffer.from('{"k":"name"}').toString('base64url') }))).toBe('cursor');
    expect(await fieldOf(service.list({ cursor: Buffer.from('[1,2').toString('base64url') }))).toBe('cursor');
    const expiry = Buffer.from(JSON.stringify({ k: 'expiry', name: 'a.example.com', notAfter: 1 })).toString('base64url');
    expect(await fieldOf(service.list({ cursor: expiry }))).toBe('cursor');
    expect(await fieldOf(service.list({ limit: 1_001 }))).toBe('limit');
    expect(await fieldOf(service.list({ limit: Number.NaN }))).toBe('limit');
    expect(await fieldOf(service.list({ q: 'a b' }))).toBe('q');
  });
});

describe('createHostnameService: dns', () => {
  it('shows where the name should point and what it points at when the dns policy is on, and nothing when DNS fails', async () => {
    const store = fakeStore();
    const answers = new Map([['d.example.com', ['cust.example.net', '203.0.113.9']]]);
    const service = createHostnameService({
      store: store.store,
      queue: fakeProvisioner().provisioner,
      clock: () => T0,
      dns: {
        cnameTarget: 'edge.example.net',
        observe: async (name) => {
          const found = answers.get(name);
          if (!found) throw new Error('SERVFAIL');
          return found;
        },
      },
    });
    await service.bulkCreate([{ hostname: 'd.example.com' }, { hostname: 'e.example.com' }], api);
    expect((await service.get('d.example.com')).dns).toEqual({
      cname_target: 'edge.example.net',
      observed: ['cust.example.net', '203.0.113.9'],
    });
    expect((await service.get('e.example.com')).dns).toEqual({ cname_target: 'edge.example.net', observed: [] });
    expect((await service.list({})).hostnames.every((h) => h.dns === undefined)).toBe(true);
  });
});
