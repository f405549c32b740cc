import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client's new-name allowance is kept under. IPv4: the address. IPv6: its /64, the
 * smallest prefix an ISP hands a subscriber, so one host cannot rotate through its 2^64
 * addresses to get 2^64 allowances (and drain the fleet's). An IPv4-mapped IPv6 address
 * (`::ffff:1.2.3.4`, what a dual-stack listener reports for IPv4 clients) is its IPv4 address.
 * Anything else (no address: the socket is already gone) is keyed as given.
 */
export function clientKey(address: string): string {
  // A zone (`fe80::1%eth0`) names the local interface, not the client.
  const ip = address.split('%')[0] ?? address;
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return address;
  const groups = ipv6Groups(ip.toLowerCase());
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function ipv6Groups(ip: string): number[] {
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = ip.split('::');
  const first = parse(head);
  if (tail === undefined) return first;
  const last = parse(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}
