import { describe, expect, it } from 'vitest';
import { SecureContextCache } from './context-cache.js';
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

  it('is bounded in count and forgets on invalidate', async () => {
    const cache = new SecureContextCache({ max: 2 });
    for (const name of ['c1', 'c2', 'c3']) await cache.get(name, async () => loaded(Date.now() + 60_000));
    expect(cache.size).toBe(2);
    cache.invalidate('c3');
    expect(cache.peek('c3')).toBeUndefined();
  });
});
