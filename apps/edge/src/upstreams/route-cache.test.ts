import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@certfleet/observability';
import { createRouteCache } from './route-cache.js';

function cache(routes: Map<string, string>, ttlMs = 30_000) {
  let now = 0;
  const warnings: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) warnings.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  let fail = false;
  const fetched: string[] = [];
  const c = createRouteCache({
    fetch: async (name) => {
      fetched.push(name);
      if (fail) throw new Error('redis down');
      return routes.get(name) ?? null;
    },
    ttlMs,
    max: 100,
    logger: createLogger({ role: 'test', level: 'warn', destination }),
    clock: () => now,
  });
  return { c, fetched, warnings, advance: (ms: number) => (now += ms), failRedis: (on: boolean) => (fail = on) };
}

describe('route cache', () => {
  it('asks Redis once for a name, then answers from memory (with or without a route)', async () => {
    const { c, fetched } = cache(new Map([['shop.example', 'http://10.0.0.5:8080']]));
    expect(await c.lookup('shop.example')).toBe('http://10.0.0.5:8080');
    expect(c.lookup('shop.example')).toBe('http://10.0.0.5:8080');
    expect(await c.lookup('plain.example')).toBeNull();
    expect(c.lookup('plain.example')).toBeNull();
    expect(fetched).toEqual(['shop.example', 'plain.example']);
  });

  it('collapses concurrent first lookups of one name into one read', async () => {
    const { c, fetched } = cache(new Map());
    await Promise.all([c.lookup('a.example'), c.lookup('a.example'), c.lookup('a.example')]);
    expect(fetched).toEqual(['a.example']);
  });

  it('serves an old answer while it is read again in the background after the TTL', async () => {
    const routes = new Map([['shop.example', 'http://10.0.0.5']]);
    const { c, fetched, advance } = cache(routes, 30_000);
    await c.lookup('shop.example');
    routes.set('shop.example', 'http://10.0.0.6');
    advance(30_000);
    expect(c.lookup('shop.example')).toBe('http://10.0.0.5');
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(c.lookup('shop.example')).toBe('http://10.0.0.6');
    expect(fetched).toHaveLength(2);
  });

  it('asks again at once after an invalidation, and after a clear', async () => {
    const routes = new Map([['shop.example', 'http://10.0.0.5']]);
    const { c, fetched } = cache(routes);
    await c.lookup('shop.example');
    routes.delete('shop.example');
    c.invalidate('shop.example');
    expect(await c.lookup('shop.example')).toBeNull();
    routes.set('shop.example', 'http://10.0.0.7');
    c.clear();
    expect(await c.lookup('shop.example')).toBe('http://10.0.0.7');
    expect(fetched).toHaveLength(3);
  });

  it('does not keep, nor share, a load the route changed under', async () => {
    const routes = new Map([['shop.example', 'http://10.0.0.5:8080']]);
    const reads: { url: string | null; answer: () => void }[] = [];
    const c = createRouteCache({
      // Each read sees the route as it is when it starts, and answers when the test says.
      fetch: (name) => {
        const url = routes.get(name) ?? null;
        return new Promise((resolve) => reads.push({ url, answer: () => resolve(url) }));
      },
      ttlMs: 30_000,
      max: 100,
      logger: createLogger({ role: 'test', level: 'silent' }),
    });
    const stale = c.lookup('shop.example') as Promise<string | null>;
    routes.set('shop.example', 'http://10.0.0.9:8080');
    c.invalidate('shop.example');
    const fresh = c.lookup('shop.example') as Promise<string | null>;
    expect(reads).toHaveLength(2);
    reads[1]!.answer();
    expect(await fresh).toBe('http://10.0.0.9:8080');
    reads[0]!.answer();
    expect(await stale).toBe('http://10.0.0.5:8080');
    // The read that started before the change answered its caller and left the new route in place.
    expect(c.lookup('shop.example')).toBe('http://10.0.0.9:8080');
  });

  it('keeps what it knows when Redis fails, and uses the default upstream for a name never seen', async () => {
    const { c, advance, failRedis } = cache(new Map([['shop.example', 'http://10.0.0.5']]));
    await c.lookup('shop.example');
    failRedis(true);
    advance(60_000);
    expect(c.lookup('shop.example')).toBe('http://10.0.0.5');
    await new Promise((resolve) => setImmediate(resolve));
    expect(c.lookup('shop.example')).toBe('http://10.0.0.5');
    expect(await c.lookup('new.example')).toBeNull();
  });

  it('does not hold a request for a name never seen while Redis is failing, and asks again behind it', async () => {
    const routes = new Map([['shop.example', 'http://10.0.0.5']]);
    const { c, fetched, failRedis } = cache(routes);
    failRedis(true);
    expect(await c.lookup('other.example')).toBeNull();
    // Redis failed just now: the default upstream without waiting, a lookup behind it.
    expect(c.lookup('shop.example')).toBeNull();
    expect(fetched).toEqual(['other.example', 'shop.example']);
    await new Promise((resolve) => setImmediate(resolve));
    failRedis(false);
    expect(c.lookup('shop.example')).toBeNull();
    await new Promise((resolve) => setImmediate(resolve));
    // Redis answered: the route is used, and names not seen are waited for again.
    expect(c.lookup('shop.example')).toBe('http://10.0.0.5');
    expect(await c.lookup('plain.example')).toBeNull();
    expect(fetched).toHaveLength(4);
  });

  it('ignores a stored route with credentials (or not http) and logs it once: the name goes to the default upstream', async () => {
    const routes = new Map([
      ['creds.example', 'http://admin:hunter2@10.0.0.5:8080'],
      ['ftp.example', 'ftp://10.0.0.5'],
    ]);
    const { c, warnings, advance } = cache(routes);
    expect(await c.lookup('creds.example')).toBeNull();
    expect(await c.lookup('ftp.example')).toBeNull();
    advance(30_000);
    c.lookup('creds.example');
    await new Promise((resolve) => setImmediate(resolve));
    expect(c.lookup('creds.example')).toBeNull();
    const ignored = warnings.filter((w) => w.msg === 'route ignored: its URL is not usable; the name goes to the default upstream');
    expect(ignored.map((w) => w.name)).toEqual(['creds.example', 'ftp.example']);
    expect(JSON.stringify(warnings)).not.toContain('hunter2');
    routes.set('creds.example', 'http://10.0.0.5:8080');
    c.invalidate('creds.example');
    expect(await c.lookup('creds.example')).toBe('http://10.0.0.5:8080');
  });
});
