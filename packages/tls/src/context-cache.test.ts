import { describe, expect, it } from 'vitest';
import { SecureContextCache, estimatedContextBytes } from './context-cache.js';
import { createSelfSignedCertificate } from './self-signed.js';

describe('SecureContextCache', async () => {
  const pem = await createSelfSignedCertificate({ commonName: 'cache.example', validDays: 1 });
  const loaded = (notAfter: number) => ({ chainPem: pem.certPem, keyPem: pem.keyPem, serial: 'AB', notAfter });

  it('loads once for concurrent misses of one name', async () => {
    const cache = new SecureContextCache({ max: 10 });
    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return loaded(Date.now() + 60_000);
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.get('a.example', load)));
    expect(loads).toBe(1);
    expect(new Set(results.map((r) => r?.context)).size).toBe(1);
    expect(cache.peek('a.example')?.serial).toBe('AB');
  });

  it('never returns an expired certificate', async () => {
    let now = 1_000;
    const cache = new SecureContextCache({ max: 10 }, () => now);
    expect(await cache.get('b.example', async () => loaded(500))).toBeNull();
    await cache.get('b.example', async () => loaded(2_000));
    expect(cache.peek('b.example')).toBeDefined();
    now = 2_000;
    expect(cache.peek('b.example')).toBeUndefined();
  });

  it('caches a certificate at hand at once, and refuses an expired one', () => {
    let now = 1_000;
    const cache = new SecureContextCache({ max: 10 }, () => now);
    expect(cache.set('d.example', loaded(500))).toBeNull();
    const entry = cache.set('d.example', loaded(2_000));
    expect(entry?.serial).toBe('AB');
    expect(cache.peek('d.example')?.context).toBe(entry?.context);
    now = 2_000;
    expect(cache.peek('d.example')).toBeUndefined();
  });

  it('is bounded in count and forgets on invalidate', async () => {
    const cache = new SecureContextCache({ max: 2 });
    for (const name of ['c1', 'c2', 'c3']) await cache.get(name, async () => loaded(Date.now() + 60_000));
    expect(cache.size).toBe(2);
    cache.invalidate('c3');
    expect(cache.peek('c3')).toBeUndefined();
  });
});

describe('SecureContextCache bounds and invalidation', async () => {
  const pem = await createSelfSignedCertificate({ commonName: 'bytes.example', validDays: 1 });
  const loaded = (serial: string) => ({ chainPem: pem.certPem, keyPem: pem.keyPem, serial, notAfter: Date.now() + 60_000 });

  it('is bounded in bytes, least recently used out first', async () => {
    const one = estimatedContextBytes(loaded('1'));
    const cache = new SecureContextCache({ max: 1_000, maxBytes: one * 3 });
    for (const name of ['b1', 'b2', 'b3']) await cache.get(name, async () => loaded(name));
    cache.peek('b1');
    await cache.get('b4', async () => loaded('b4'));
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBeLessThanOrEqual(one * 3);
    expect(cache.peek('b2')).toBeUndefined();
    expect(cache.peek('b1')?.serial).toBe('b1');
  });

  it('does not keep a load that raced with an invalidation', async () => {
    const cache = new SecureContextCache({ max: 10 });
    let release: () => void = () => undefined;
    const slow = cache.get('r.example', () => new Promise((resolve) => (release = () => resolve(loaded('old')))));
    await new Promise((resolve) => setTimeout(resolve, 0));
    cache.invalidate('r.example');
    const fresh = cache.get('r.example', async () => loaded('new'));
    release();
    expect((await slow)?.serial).toBe('old');
    expect((await fresh)?.serial).toBe('new');
    expect(cache.peek('r.example')?.serial).toBe('new');
  });
});

describe('native memory reclaim', async () => {
  const { createNativeMemoryReclaimer } = await import('./native-memory.js');
  const pem = await createSelfSignedCertificate({ commonName: 'reclaim.example', validDays: 1 });
  const loaded = (serial: string) => ({ chainPem: pem.certPem, keyPem: pem.keyPem, serial, notAfter: Date.now() + 60_000 });

  it('collects once enough evicted bytes have piled up, not before', async () => {
    let collected = 0;
    const one = estimatedContextBytes(loaded('x'));
    const reclaimer = createNativeMemoryReclaimer(one * 3, () => (collected += 1));
    const cache = new SecureContextCache({ max: 2, onRelease: reclaimer.released });
    for (const name of ['m1', 'm2', 'm3', 'm4']) await cache.get(name, async () => loaded(name));
    expect(collected).toBe(0);
    await cache.get('m5', async () => loaded('m5'));
    expect(collected).toBe(1);
    expect(reclaimer.collections).toBe(1);
  });

  it("reaches V8's collector without a command-line flag", () => {
    const reclaimer = createNativeMemoryReclaimer(1);
    reclaimer.released(1);
    expect(reclaimer.collections).toBe(1);
  });
});
