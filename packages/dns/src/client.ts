import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import packet, { type DecodedPacket } from 'dns-packet';
import { DnsUnavailableError, type ServerFailure } from './errors.js';
import { normalizeName } from './names.js';
import { toDnsResponse, type DnsResponse, type DnsServer, type RecordType } from './response.js';
import { tcpExchange, udpExchange } from './transport.js';

export interface DnsClientOptions {
  /** Tried in order; the first usable answer wins. Hosts are IP addresses. */
  servers: DnsServer[];
  /**
   * Limit for one attempt (one UDP exchange, or the TCP retry after a truncated answer). A query
   * takes at most servers.length x 2 x timeoutMs, and usually one round trip.
   */
  timeoutMs: number;
}

/** Anything that answers DNS questions: the network client, a cache in front of it, a fake in tests. */
export interface DnsQuerier {
  /** Resolves with a NOERROR or NXDOMAIN answer; rejects with DnsUnavailableError otherwise. */
  query(name: string, type: RecordType): Promise<DnsResponse>;
}

// Answers that settle the question. SERVFAIL, REFUSED, FORMERR, NOTIMP... say this server could
// not answer, and another one might.
const SETTLED = new Set(['NOERROR', 'NXDOMAIN']);

// The EDNS buffer size DNS Flag Day 2020 recommends: large enough for most CAA and A sets, small
// enough not to fragment, so TCP retries stay rare.
const EDNS_UDP_PAYLOAD = 1232;

/**
 * A stub resolver: asks recursive resolvers `servers` in order, over UDP, retrying a server over
 * TCP when its UDP answer is truncated. No caching (see createCachingResolver).
 */
export function createDnsClient(options: DnsClientOptions): DnsQuerier {
  validate(options);
  const servers = options.servers.map((s) => ({ ...s }));
  return {
    async query(rawName, type) {
      const name = normalizeName(rawName);
      const failures: ServerFailure[] = [];
      for (const server of servers) {
        try {
          const response = await ask(server, name, type, options.timeoutMs);
          if (SETTLED.has(response.rcode)) return response;
          failures.push({ server, reason: response.rcode });
        } catch (error) {
          failures.push({ server, reason: error instanceof Error ? error.message : String(error) });
        }
      }
      throw new DnsUnavailableError({ name, type }, failures);
    },
  };
}

async function ask(server: DnsServer, name: string, type: RecordType, timeoutMs: number): Promise<DnsResponse> {
  // A random id and a fresh socket (random source port) per query make forged replies hard to land.
  const id = randomInt(0x10000);
  const query = packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      { type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
    ],
  });
  const accept = (reply: DecodedPacket) => isReplyTo(reply, id, name, type);
  const exchange = { server, query, accept, timeoutMs };
  const reply = await udpExchange(exchange);
  if (!reply.flag_tc) return toDnsResponse(reply);
  try {
    return toDnsResponse(await tcpExchange(exchange));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`answer truncated over UDP, then ${reason}`, { cause: error });
  }
}

function isReplyTo(reply: DecodedPacket, id: number, name: string, type: RecordType): boolean {
  const question = reply.questions?.[0];
  return (
    reply.type === 'response' &&
    reply.id === id &&
    question !== undefined &&
    question.type === type &&
    normalizeName(question.name) === name
  );
}

function validate(options: DnsClientOptions): void {
  if (options.servers.length === 0) {
    throw new Error('the DNS client needs at least one server: pass the IP address and port of a recursive resolver');
  }
  for (const server of options.servers) {
    if (!isIP(server.host)) {
      throw new Error(`DNS server host must be an IP address, got "${server.host}": name lookups would need DNS themselves`);
    }
    if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65535) {
      throw new Error(`DNS server port must be a port number (1-65535), got "${server.port}" for ${server.host}`);
    }
  }
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new Error(`DNS timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`);
  }
}
