import { describe, expect, it } from 'vitest';
import { createCachingResolver } from './caching-resolver.js';
import { DnsAliasError, DnsUnavailableError } from './errors.js';
import type { DnsRecord, DnsResponse, RecordType } from './response.js';

type Zone = Record<string, DnsRecord[] | 'NXDOMAIN' | 'DOWN'>;

const cname = (name: string, target: string): DnsRecord => ({ name, type: 'CNAME', ttl: 300, data: target });
const a = (name: string, ip: string, ttl = 300): DnsRecord => ({ name, type: 'A', ttl, data: ip });
const aaaa = (name: string, ip: string): DnsRecord => ({ name, type: 'AAAA', ttl: 300, data: ip });
const caa = (name: string, value: string, tag = 'issue'): DnsRecord => ({ name, type: 'CAA', ttl: 300, data: { flags: 0, tag, value } });

/**
 * A recursive resolver over a tiny zone, keyed "TYPE name". Like a real one it answers a query
 * at an alias with the CNAME plus whatever the target holds ("riders"), which the lookups must
 * not trust for names further down the chain.
 */
function resolverFor(zone: Zone) {
  const calls: string[] = [];
  const now = 5_000;
  const client = {
    async query(name: string, type: RecordType): Promise<DnsResponse> {
      calls.push(`${type} ${name}`);
      const own = zone[`CNAME ${name}`] ?? zone[`${type} ${name}`];
      if (own === 'DOWN')
        throw new DnsUnavailableError({ name, type }, [{ server: { host: '10.0.0.53', port: 53 }, reason: 'timed out after 500 ms' }]);
      if (own === 'NXDOMAIN' || own === undefined) return { rcode: own ?? 'NOERROR', answers: [] };
      const riders = own[0]?.type === 'CNAME' ? (zone[`${type} ${own[0].data}`] ?? []) : [];
      return { rcode: 'NOERROR', answers: [...own, ...(Array.isArray(riders) ? riders : [])] };
    },
  };
  const resolver = createCachingResolver({
    client,
    clock: () => now,
    minTtlMs: 1_000,
    maxTtlMs: 60_000,
    negativeTtlMs: 5_000,
    maxStaleMs: 0,
    maxEntries: 100,
  });
  return { resolver, calls };
}

describe('resolveChain', () => {
  it('follows CNAMEs hop by hop to the addresses at the end', async () => {
    const { resolver } = resolverFor({
      'CNAME shop.example': [cname('shop.example', 'edge.cdn.example')],
      'CNAME edge.cdn.example': [cname('edge.cdn.example', 'lb.cdn.example')],
      'A lb.cdn.example': [a('lb.cdn.example', '192.0.2.7', 30)],
      'AAAA lb.cdn.example': [aaaa('lb.cdn.example', '2001:db8::7')],
    });
    expect(await resolver.resolveChain('Shop.Example.')).toEqual({
      chain: ['shop.example', 'edge.cdn.example', 'lb.cdn.example'],
      addresses: ['192.0.2.7', '2001:db8::7'],
      ttlMs: 30_000,
      stale: false,
      nxdomain: false,
    });
  });

  it('does not trust target records riding along with a CNAME when the target is itself an alias', async () => {
    // pebble-challtestsrv answers "A a" with "a CNAME b" plus b's default A, although b is a CNAME to c.
    const { resolver } = resolverFor({
      'CNAME a.example': [cname('a.example', 'b.example')],
      'A b.example': [a('b.example', '127.0.0.1')],
      'CNAME b.example': [cname('b.example', 'c.example')],
      'A c.example': [a('c.example', '192.0.2.3')],
    });
    const result = await resolver.resolveChain('a.example');
    expect(result.chain).toEqual(['a.example', 'b.example', 'c.example']);
    expect(result.addresses).toEqual(['192.0.2.3']);
  });

  it('reports a name that does not exist, or a CNAME to one, as nxdomain', async () => {
    const { resolver, calls } = resolverFor({
      'A gone.example': 'NXDOMAIN',
      'CNAME dangling.example': [cname('dangling.example', 'gone.example')],
    });
    expect(await resolver.resolveChain('gone.example')).toMatchObject({ chain: ['gone.example'], addresses: [], nxdomain: true });
    expect(await resolver.resolveChain('dangling.example')).toMatchObject({ chain: ['dangling.example', 'gone.example'], nxdomain: true });
    expect(calls).not.toContain('AAAA gone.example');
  });

  it('stops a CNAME loop with an error naming the loop', async () => {
    const { resolver } = resolverFor({
      'CNAME a.example': [cname('a.example', 'b.example')],
      'CNAME b.example': [cname('b.example', 'a.example')],
    });
    const error = await resolver.resolveChain('a.example').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsAliasError);
    expect(error).toMatchObject({ kind: 'loop', chain: ['a.example', 'b.example', 'a.example'] });
    expect((error as Error).message).toBe(
      'CNAME records of a.example form a loop (a.example -> b.example -> a.example): the domain owner must fix the CNAME records',
    );
  });

  it('stops a chain longer than maxDepth aliases', async () => {
    const zone: Zone = { 'A n5.example': [a('n5.example', '192.0.2.5')] };
    for (let i = 0; i < 5; i += 1) zone[`CNAME n${i}.example`] = [cname(`n${i}.example`, `n${i + 1}.example`)];
    const { resolver } = resolverFor(zone);
    expect((await resolver.resolveChain('n0.example', { maxDepth: 5 })).addresses).toEqual(['192.0.2.5']);
    await expect(resolver.resolveChain('n0.example', { maxDepth: 4 })).rejects.toMatchObject({ kind: 'too-deep' });
  });
});

describe('relevantCaa', () => {
  it('climbs to the first ancestor with CAA records', async () => {
    const { resolver, calls } = resolverFor({ 'CAA example.com': [caa('example.com', 'letsencrypt.org')] });
    expect(await resolver.relevantCaa('a.shop.example.com')).toEqual({
      owner: 'example.com',
      holder: 'example.com',
      records: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
      stale: false,
      ttlMs: 5_000, // the empty answers below example.com are cached for negativeTtlMs only
    });
    expect(calls.sort()).toEqual(['CAA a.shop.example.com', 'CAA com', 'CAA example.com', 'CAA shop.example.com']);
  });

  it('stops at the name itself when it has records, ignoring records further up', async () => {
    const { resolver } = resolverFor({
      'CAA shop.example.com': [caa('shop.example.com', 'othercat.example')],
      'CAA example.com': [caa('example.com', 'letsencrypt.org')],
    });
    expect(await resolver.relevantCaa('shop.example.com')).toMatchObject({
      owner: 'shop.example.com',
      records: [{ value: 'othercat.example' }],
    });
  });

  it('follows a CNAME at a level to the CAA records of its target, then climbs from the alias', async () => {
    const { resolver } = resolverFor({
      'CNAME shop.example.com': [cname('shop.example.com', 'shops.saas.example')],
      'CAA shops.saas.example': [caa('shops.saas.example', 'pki.goog')],
      'CAA example.com': [caa('example.com', 'letsencrypt.org')],
    });
    expect(await resolver.relevantCaa('shop.example.com')).toMatchObject({
      owner: 'shop.example.com',
      holder: 'shops.saas.example',
      records: [{ value: 'pki.goog' }],
    });
    // The alias target has nothing: the climb goes on from the alias's parent, not the target's.
    const { resolver: second } = resolverFor({
      'CNAME shop.example.com': [cname('shop.example.com', 'shops.saas.example')],
      'CAA saas.example': [caa('saas.example', 'pki.goog')],
      'CAA example.com': [caa('example.com', 'letsencrypt.org')],
    });
    expect(await second.relevantCaa('shop.example.com')).toMatchObject({ owner: 'example.com', records: [{ value: 'letsencrypt.org' }] });
  });

  it('returns no records when no level has any', async () => {
    const { resolver } = resolverFor({ 'CAA shop.example': 'NXDOMAIN' });
    expect(await resolver.relevantCaa('shop.example')).toMatchObject({ owner: null, holder: null, records: [] });
  });

  it('fails when a level below the first records cannot be looked up, but not for levels above it', async () => {
    const { resolver } = resolverFor({ 'CAA shop.example.com': 'DOWN', 'CAA example.com': [caa('example.com', 'letsencrypt.org')] });
    await expect(resolver.relevantCaa('shop.example.com')).rejects.toBeInstanceOf(DnsUnavailableError);
    const { resolver: above } = resolverFor({ 'CAA shop.example.com': [caa('shop.example.com', 'letsencrypt.org')], 'CAA com': 'DOWN' });
    expect((await above.relevantCaa('shop.example.com')).owner).toBe('shop.example.com');
  });
});
