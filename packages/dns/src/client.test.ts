import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import packet, { type Answer, type DecodedPacket } from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { createDnsClient } from './client.js';
import { DnsUnavailableError } from './errors.js';

type Reply = Buffer | { rcode?: number; flags?: number; answers?: Answer[]; id?: number; name?: string } | null;
type Script = (query: DecodedPacket, transport: 'udp' | 'tcp') => Reply[];

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A DNS server on loopback (UDP and TCP on one port) that sends what `script` returns for each query. */
async function scriptedServer(script: Script): Promise<{ host: string; port: number }> {
  const encode = (query: DecodedPacket, reply: Exclude<Reply, null>) => {
    if (Buffer.isBuffer(reply)) return reply;
    const question = query.questions?.[0];
    return packet.encode({
      type: 'response',
      id: reply.id ?? query.id,
      flags: (reply.flags ?? 0) | (reply.rcode ?? 0),
      questions: question ? [{ ...question, name: reply.name ?? question.name }] : [],
      answers: reply.answers ?? [],
    });
  };
  const udp = createSocket('udp4');
  udp.on('message', (message, from) => {
    const query = packet.decode(message);
    for (const reply of script(query, 'udp')) if (reply) udp.send(encode(query, reply), from.port, from.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  const tcp = createServer((socket) => {
    socket.on('data', (data) => {
      const query = packet.decode(data.subarray(2));
      for (const reply of script(query, 'tcp')) if (reply) socket.write(packet.streamEncode(packet.decode(encode(query, reply))));
    });
  });
  await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(port, '127.0.0.1', resolve));
  closers.push(
    () => udp.close(),
    () => tcp.close(),
  );
  return { host: '127.0.0.1', port: (tcp.address() as AddressInfo).port };
}

const addresses = (count: number): Answer[] =>
  Array.from({ length: count }, (_, i) => ({ name: 'big.example', type: 'A', ttl: 60, data: `192.0.2.${i + 1}` }));

describe('createDnsClient', () => {
  it('ignores replies with another id, another question or garbage, and takes the matching one', async () => {
    const server = await scriptedServer((query) => [
      Buffer.from('not dns'),
      { id: ((query.id ?? 0) + 1) % 0x10000, answers: addresses(1) },
      { name: 'other.example', answers: addresses(1) },
      { answers: [{ name: 'shop.example', type: 'A', ttl: 60, data: '192.0.2.80' }] },
    ]);
    const client = createDnsClient({ servers: [server], timeoutMs: 2_000 });
    const response = await client.query('SHOP.example.', 'A');
    expect(response).toEqual({ rcode: 'NOERROR', answers: [{ name: 'shop.example', type: 'A', ttl: 60, data: '192.0.2.80' }] });
  });

  it('asks the same server again over TCP when the UDP answer is truncated', async () => {
    const seen: string[] = [];
    const server = await scriptedServer((_query, transport) => {
      seen.push(transport);
      return [transport === 'udp' ? { flags: packet.TRUNCATED_RESPONSE } : { answers: addresses(100) }];
    });
    const client = createDnsClient({ servers: [server], timeoutMs: 2_000 });
    const response = await client.query('big.example', 'A');
    expect(response.answers).toHaveLength(100);
    expect(seen).toEqual(['udp', 'tcp']);
  });

  it('returns NXDOMAIN as an answer, not a failure', async () => {
    const server = await scriptedServer(() => [{ rcode: 3 }]);
    const client = createDnsClient({ servers: [server], timeoutMs: 2_000 });
    expect(await client.query('gone.example', 'A')).toEqual({ rcode: 'NXDOMAIN', answers: [] });
  });

  it('moves on from a server that answers SERVFAIL or REFUSED to the next one', async () => {
    const servfail = await scriptedServer(() => [{ rcode: 2 }]);
    const refused = await scriptedServer(() => [{ rcode: 5 }]);
    const good = await scriptedServer(() => [{ answers: [{ name: 'shop.example', type: 'A', ttl: 60, data: '192.0.2.80' }] }]);
    const client = createDnsClient({ servers: [servfail, refused, good], timeoutMs: 2_000 });
    expect((await client.query('shop.example', 'A')).answers).toHaveLength(1);
  });

  it('throws DnsUnavailableError naming every server and why it failed', async () => {
    const servfail = await scriptedServer(() => [{ rcode: 2 }]);
    const silent = await scriptedServer(() => [null]);
    const tcpSilent = await scriptedServer((_query, transport) => [transport === 'udp' ? { flags: packet.TRUNCATED_RESPONSE } : null]);
    const closed = { host: '127.0.0.1', port: await closedUdpPort() };
    const client = createDnsClient({ servers: [servfail, silent, tcpSilent, closed], timeoutMs: 200 });
    const error = await client.query('shop.example', 'A').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsUnavailableError);
    expect((error as Error).message).toBe(
      `no DNS server answered for shop.example A: 127.0.0.1:${servfail.port} SERVFAIL, ` +
        `127.0.0.1:${silent.port} timed out after 200 ms, ` +
        `127.0.0.1:${tcpSilent.port} answer truncated over UDP, then timed out after 200 ms over TCP, ` +
        `127.0.0.1:${closed.port} ECONNREFUSED`,
    );
  });

  it('refuses a server given by name, since finding it would need DNS', () => {
    expect(() => createDnsClient({ servers: [{ host: 'dns.google', port: 53 }], timeoutMs: 500 })).toThrow(
      'DNS server host must be an IP address, got "dns.google"',
    );
  });
});

/** A UDP port nothing listens on: the kernel answers with ICMP "port unreachable". */
async function closedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}
