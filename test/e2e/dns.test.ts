import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { caaPermits, createCachingResolver, createDnsClient, DnsUnavailableError, type DnsServer } from '@certfleet/dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pebbleBinDir } from '../support/pebble.js';
import { freePort, spawnProc, type Proc } from '../support/processes.js';

let challtestsrv: Proc;
let dns: DnsServer;
let management: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const [dnsPort, managementPort] = await Promise.all([freePort(), freePort()]);
  challtestsrv = spawnProc('dns-challtestsrv', join(pebbleBinDir(), 'pebble-challtestsrv'), [
    '-dns01',
    `127.0.0.1:${dnsPort}`,
    '-management',
    `127.0.0.1:${managementPort}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-doh',
    '',
    '-defaultIPv6',
    '',
  ]);
  await challtestsrv.waitForLine((l) => l.includes('Starting management server'), 15_000, 'challtestsrv ready');
  dns = { host: '127.0.0.1', port: dnsPort };
  management = `http://127.0.0.1:${managementPort}`;
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await challtestsrv?.stop();
});

/** challtestsrv's management API. Hosts are matched case-sensitively: always write them lower-case. */
async function manage(action: string, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${management}/${action}`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`challtestsrv ${action} answered ${response.status}: ${await response.text()}`);
}

const client = () => createDnsClient({ servers: [dns], timeoutMs: 1_000 });

describe('DNS lookups against pebble-challtestsrv', () => {
  it('looks up the A records of a name, with the TTL of 0 challtestsrv gives every record', async () => {
    await manage('add-a', { host: 'shop.dns-e2e.example.', addresses: ['192.0.2.10', '192.0.2.11'] });
    const response = await client().query('Shop.DNS-e2e.example.', 'A');
    expect(response.rcode).toBe('NOERROR');
    expect(response.answers).toEqual([
      { name: 'shop.dns-e2e.example', type: 'A', ttl: 0, data: '192.0.2.10' },
      { name: 'shop.dns-e2e.example', type: 'A', ttl: 0, data: '192.0.2.11' },
    ]);
  });

  it('follows a CNAME chain a -> b -> c to the address of c', async () => {
    await manage('set-cname', { host: 'a.chain.example.', target: 'b.chain.example.' });
    await manage('set-cname', { host: 'b.chain.example.', target: 'c.chain.example.' });
    await manage('add-a', { host: 'c.chain.example.', addresses: ['192.0.2.33'] });
    // challtestsrv follows one hop only, and adds the default A of b although b is a CNAME:
    // which is why the resolver asks at every hop instead of trusting such riders.
    const raw = await client().query('a.chain.example', 'A');
    expect(raw.answers).toEqual([
      { name: 'a.chain.example', type: 'CNAME', ttl: 0, data: 'b.chain.example' },
      { name: 'b.chain.example', type: 'A', ttl: 0, data: '127.0.0.1' },
    ]);
    const resolver = createCachingResolver({
      client: client(),
      minTtlMs: 1_000,
      maxTtlMs: 60_000,
      negativeTtlMs: 5_000,
      maxStaleMs: 0,
      maxEntries: 100,
    });
    const result = await resolver.resolveChain('a.chain.example');
    expect(result).toMatchObject({
      chain: ['a.chain.example', 'b.chain.example', 'c.chain.example'],
      addresses: ['192.0.2.33'],
      nxdomain: false,
      stale: false,
    });
  });

  it('finds the CAA records of a parent and judges a CA by them', async () => {
    await manage('add-caa', { host: 'caa-parent.example.', policies: [{ tag: 'issue', value: 'letsencrypt.org' }] });
    const resolver = createCachingResolver({
      client: client(),
      minTtlMs: 1_000,
      maxTtlMs: 60_000,
      negativeTtlMs: 5_000,
      maxStaleMs: 0,
      maxEntries: 100,
    });
    const caa = await resolver.relevantCaa('www.shop.caa-parent.example');
    expect(caa).toMatchObject({ owner: 'caa-parent.example', records: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }] });
    expect(caaPermits(caa.records, ['letsencrypt.org'], caa.owner)).toEqual({
      permitted: true,
      reason: 'CAA at caa-parent.example allows "letsencrypt.org"',
    });
    expect(caaPermits(caa.records, ['othercat.example'], caa.owner).reason).toContain(
      'CAA at caa-parent.example allows only "letsencrypt.org"',
    );
  });

  it('reports SERVFAIL from the only server as DnsUnavailableError naming it', async () => {
    await manage('set-servfail', { host: 'broken.dns-e2e.example.' });
    const failure = client().query('broken.dns-e2e.example', 'A');
    await expect(failure).rejects.toBeInstanceOf(DnsUnavailableError);
    await expect(failure).rejects.toThrow(`no DNS server answered for broken.dns-e2e.example A: 127.0.0.1:${dns.port} SERVFAIL`);
  });

  it('serves the last good answer, marked stale, once the name starts failing, until maxStaleMs', async () => {
    const time = { now: 1_000_000 };
    const resolver = createCachingResolver({
      client: client(),
      clock: () => time.now,
      minTtlMs: 1_000,
      maxTtlMs: 60_000,
      negativeTtlMs: 5_000,
      maxStaleMs: 30_000,
      maxEntries: 100,
    });
    await manage('add-a', { host: 'flaky.dns-e2e.example.', addresses: ['192.0.2.44'] });
    const fresh = await resolver.query('flaky.dns-e2e.example', 'A');
    expect(fresh.expiresAt).toBe(time.now + 1_000); // TTL 0 raised to minTtlMs
    await manage('set-servfail', { host: 'flaky.dns-e2e.example.' });
    time.now = fresh.expiresAt + 29_000;
    expect(await resolver.query('flaky.dns-e2e.example', 'A')).toEqual({ ...fresh, stale: true });
    time.now = fresh.expiresAt + 30_000;
    await expect(resolver.query('flaky.dns-e2e.example', 'A')).rejects.toThrow('SERVFAIL');
    await manage('clear-servfail', { host: 'flaky.dns-e2e.example.' });
    expect(await resolver.query('flaky.dns-e2e.example', 'A')).toMatchObject({ stale: false, response: fresh.response });
  });

  it('returns all of a large answer: challtestsrv never truncates, so a relay that does forces the TCP retry', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    await manage('add-a', { host: 'big.dns-e2e.example.', addresses: many });
    // challtestsrv sends all 100 records (about 2.8 KB) in one UDP datagram, TC clear.
    expect((await client().query('big.dns-e2e.example', 'A')).answers).toHaveLength(100);

    const relay = await truncatingRelay(dns);
    const viaRelay = createDnsClient({ servers: [relay.server], timeoutMs: 1_000 });
    const response = await viaRelay.query('big.dns-e2e.example', 'A');
    expect(response.answers.map((r) => r.data)).toEqual(many);
    expect(relay.counts).toEqual({ udp: 1, truncated: 1, tcp: 1 });
  });
});

/**
 * A UDP and TCP front for `upstream` on one port that behaves like a real server: a UDP answer
 * larger than the query's EDNS buffer size (512 bytes without EDNS) goes back empty with TC
 * set; TCP is passed through to challtestsrv untouched.
 */
async function truncatingRelay(upstream: DnsServer) {
  const counts = { udp: 0, truncated: 0, tcp: 0 };
  const port = await freePort();
  const front = createSocket('udp4');
  front.on('message', (query, from) => {
    counts.udp += 1;
    const back = createSocket('udp4');
    back.on('message', (reply) => {
      back.close();
      if (reply.length <= ednsBufferSize(query)) return front.send(reply, from.port, from.address);
      counts.truncated += 1;
      front.send(truncated(reply), from.port, from.address);
    });
    back.send(query, upstream.port, upstream.host);
  });
  await new Promise<void>((resolve) => front.bind(port, '127.0.0.1', resolve));
  const tcp = createServer((socket) => {
    counts.tcp += 1;
    const upstreamSocket = connect(upstream.port, upstream.host);
    socket.pipe(upstreamSocket).pipe(socket);
    socket.on('error', () => upstreamSocket.destroy());
    upstreamSocket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(port, '127.0.0.1', resolve));
  cleanups.push(async () => {
    front.close();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  });
  return { server: { host: '127.0.0.1', port }, counts };
}

// Raw wire format (RFC 1035 4.1, RFC 6891 6.1.2), so the relay does not lean on the library under test.

/** Where the question section ends: a 12-byte header, the name's labels up to the 0 byte, QTYPE, QCLASS. */
function questionEnd(message: Buffer): number {
  let offset = 12;
  while (message[offset] !== 0) offset += (message[offset] ?? 0) + 1;
  return offset + 1 + 4;
}

/** The UDP buffer size a query advertises in its OPT record (type 41, size in CLASS); 512 without EDNS. */
function ednsBufferSize(query: Buffer): number {
  const at = questionEnd(query);
  const hasOpt = query.readUInt16BE(10) > 0 && query[at] === 0 && query.readUInt16BE(at + 1) === 41;
  return hasOpt ? query.readUInt16BE(at + 3) : 512;
}

/** The reply cut after its question, with TC set and every record count zeroed. */
function truncated(reply: Buffer): Buffer {
  const out = Buffer.from(reply.subarray(0, questionEnd(reply)));
  out.writeUInt16BE(out.readUInt16BE(2) | 0x0200, 2);
  for (const countAt of [6, 8, 10]) out.writeUInt16BE(0, countAt);
  return out;
}
