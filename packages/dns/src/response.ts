import type { Answer, DecodedPacket } from 'dns-packet';
import { normalizeName } from './names.js';

/** A DNS server to send queries to; `host` is an IP address (no name lookup happens here). */
export interface DnsServer {
  host: string;
  port: number;
}

/** The record types this package asks for. */
export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'CAA';

/** One CAA property (RFC 8659 4.1): `flags` 128 marks it critical. */
export interface CaaRecord {
  flags: number;
  tag: string;
  value: string;
}

/**
 * One resource record of an answer. Names are normalised (lower-case, no trailing dot). Only the
 * types above are kept: anything else a server adds (RRSIG, DNAME next to its synthesised CNAME)
 * is dropped, so `data` is always typed.
 */
export type DnsRecord =
  | { name: string; type: 'A' | 'AAAA' | 'CNAME'; ttl: number; data: string }
  | { name: string; type: 'CAA'; ttl: number; data: CaaRecord };

/** A server's answer to one question. */
export interface DnsResponse {
  /** `NOERROR` or `NXDOMAIN` from the client (other rcodes make it try the next server). */
  rcode: string;
  answers: DnsRecord[];
  /**
   * Seconds a negative answer may be cached, from the SOA in the authority section:
   * min(SOA TTL, SOA MINIMUM) as RFC 2308 section 5 says. Absent when there is no SOA.
   */
  authoritiesMinTtl?: number;
}

/** The typed, normalised view of a decoded reply. */
export function toDnsResponse(reply: DecodedPacket): DnsResponse {
  // @types/dns-packet omits `rcode`, which dns-packet's decode always sets.
  const rcode = (reply as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
  const answers = (reply.answers ?? []).flatMap((answer) => toRecord(answer));
  const response: DnsResponse = { rcode, answers };
  for (const authority of reply.authorities ?? []) {
    if (authority.type !== 'SOA') continue;
    const soaTtl = Math.min(authority.ttl ?? 0, authority.data.minimum ?? 0);
    response.authoritiesMinTtl = Math.min(response.authoritiesMinTtl ?? soaTtl, soaTtl);
  }
  return response;
}

function toRecord(answer: Answer): DnsRecord[] {
  const name = normalizeName(answer.name);
  const ttl = 'ttl' in answer ? (answer.ttl ?? 0) : 0;
  switch (answer.type) {
    case 'A':
    case 'AAAA':
      return [{ name, type: answer.type, ttl, data: answer.data }];
    case 'CNAME':
      return [{ name, type: 'CNAME', ttl, data: normalizeName(answer.data) }];
    case 'CAA': {
      const { flags = 0, tag, value } = answer.data;
      return [{ name, type: 'CAA', ttl, data: { flags, tag, value } }];
    }
    default:
      return [];
  }
}
