import { isIP } from 'node:net';
import { z } from 'zod';
import { list } from './fields.js';

/** A recursive resolver as the DNS client (@certfleet/dns) takes it. */
export interface DnsServerAddress {
  host: string;
  port: number;
}

const PORT = /^\d{1,5}$/;

/**
 * Reads `IP`, `IP:PORT`, a bare IPv6 address or `[IPv6]:PORT` (the forms node:dns getServers()
 * writes); port 53 when none is given. Exactly what createDnsClient accepts: the host an IP
 * address (a resolver looked up by name would need DNS itself), the port 1-65535. Anything else,
 * a host name, `1.2.3.4:53:54`, `[1.2.3.4]`, is `undefined`.
 */
export function parseDnsServer(text: string): DnsServerAddress | undefined {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) return withPort(bracketed[1] ?? '', bracketed[2], 6);
  if (isIP(text) === 6) return { host: text, port: 53 };
  const [host = '', port, ...rest] = text.split(':');
  return rest.length === 0 ? withPort(host, port, 4) : undefined;
}

function withPort(host: string, port: string | undefined, family: 4 | 6): DnsServerAddress | undefined {
  if (isIP(host) !== family) return undefined;
  if (port === undefined) return { host, port: 53 };
  const number = Number(port);
  return PORT.test(port) && number >= 1 && number <= 65535 ? { host, port: number } : undefined;
}

/** A comma-separated list of DNS servers, each checked as the DNS client would check it, at parse time. */
export const dnsServers = () =>
  list(
    'DNS servers as IP or IP:PORT, IPv6 as [IP]:PORT (an IP address: looking up a resolver by name would need DNS)',
    z.string().refine((text) => parseDnsServer(text) !== undefined),
  );

/** Servers already checked by {@link dnsServers}, or node:dns's own list. */
export function toDnsServers(texts: readonly string[]): DnsServerAddress[] {
  return texts.flatMap((text) => parseDnsServer(text) ?? []);
}
