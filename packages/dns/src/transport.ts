import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import packet, { type DecodedPacket } from 'dns-packet';
import type { DnsServer } from './response.js';

/** One question sent to one server, waiting at most `timeoutMs` for a reply that `accept`s. */
export interface Exchange {
  server: DnsServer;
  /** The encoded query, without TCP framing. */
  query: Buffer;
  /** Whether a decoded packet is the reply to this query; anything else is ignored. */
  accept: (reply: DecodedPacket) => boolean;
  timeoutMs: number;
}

/**
 * Sends the query over UDP from a fresh socket and resolves with the first accepted reply. The
 * socket is connected, so the kernel drops datagrams from other addresses and reports ICMP
 * "port unreachable" as ECONNREFUSED instead of leaving us to wait for the timeout.
 */
export function udpExchange({ server, query, accept, timeoutMs }: Exchange): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (error: Error | null, reply?: DecodedPacket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(reply as DecodedPacket);
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (error) => finish(new Error(describe(error), { cause: error })));
    socket.on('message', (message) => {
      const reply = decodeOrNull(message);
      if (reply && accept(reply)) finish(null, reply);
    });
    socket.connect(server.port, server.host, () => {
      socket.send(query, (error) => error && finish(error));
    });
  });
}

/** Sends the query over TCP (2-byte length prefix, RFC 1035 4.2.2) and resolves with the accepted reply. */
export function tcpExchange({ server, query, accept, timeoutMs }: Exchange): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    let buffered = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | null, reply?: DecodedPacket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply as DecodedPacket);
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms over TCP`)), timeoutMs);
    socket.on('error', (error) => finish(new Error(`${describe(error)} over TCP`, { cause: error })));
    socket.on('close', () => finish(new Error('TCP connection closed before an answer')));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // One connection may carry several framed messages; take each complete one in turn.
      while (buffered.length >= 2) {
        const size = buffered.readUInt16BE(0);
        if (buffered.length < 2 + size) return;
        const reply = decodeOrNull(buffered.subarray(2, 2 + size));
        buffered = buffered.subarray(2 + size);
        if (reply && accept(reply)) return finish(null, reply);
      }
    });
  });
}

/** The errno code alone ("ECONNREFUSED"): the message's syscall and address repeat what the caller says. */
function describe(error: Error & { code?: string }): string {
  return error.code ?? error.message;
}

/** A malformed or unrelated packet is noise on the wire, not a reason to fail the query. */
function decodeOrNull(message: Buffer): DecodedPacket | null {
  try {
    return packet.decode(message);
  } catch {
    return null;
  }
}
