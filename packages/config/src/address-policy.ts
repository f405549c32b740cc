import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a route may send traffic to. A route's host can be a name its customer
 * controls, so its answers are untrusted: a name resolving (or rebinding) to loopback, a private
 * network, the cloud metadata service or the fleet's Redis would turn the edge into a way into
 * its own network (SSRF). Pure: addresses in, a verdict out, no I/O, so the CLI (at `routes set`)
 * and the edge (on every resolution) apply the same rules.
 */

/** Ranges that are not the public internet. */
export type SpecialRange =
  | 'unspecified'
  | 'loopback'
  | 'link-local'
  | 'private'
  | 'shared'
  | 'unique-local'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

/** Why an address is refused: a special range, a metadata service, the fleet's Redis, or not an IP address at all. */
export type RefusedRange = SpecialRange | 'metadata' | 'redis' | 'not-an-address';

export interface AddressRefusal {
  address: string;
  range: RefusedRange;
  /** Whether listing the address's network in UPSTREAM_ALLOWED_NETWORKS would allow it. */
  allowable: boolean;
}

// Most specific first: the first range that holds an address names it (255.255.255.255 is
// broadcast before reserved; :: and ::1 before the rest of ::/96). IPv4 ranges also hold the
// IPv4-mapped IPv6 form of their addresses (::ffff:127.0.0.1): Node's BlockList matches those.
const SPECIAL_RANGES: readonly { range: SpecialRange; networks: readonly string[] }[] = [
  // 0.0.0.0 is dialled as the local host on Linux.
  { range: 'unspecified', networks: ['0.0.0.0/8', '::/128'] },
  { range: 'loopback', networks: ['127.0.0.0/8', '::1/128'] },
  { range: 'link-local', networks: ['169.254.0.0/16', 'fe80::/10'] },
  { range: 'private', networks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
  // RFC 6598, carrier-grade NAT; also where some clouds put their own services (100.100.100.200).
  { range: 'shared', networks: ['100.64.0.0/10'] },
  { range: 'unique-local', networks: ['fc00::/7'] },
  { range: 'multicast', networks: ['224.0.0.0/4', 'ff00::/8'] },
  { range: 'broadcast', networks: ['255.255.255.255/32'] },
  // 240/4 is reserved (RFC 1112); ::/96 is the deprecated IPv4-compatible form (RFC 4291 2.5.5.1).
  { range: 'reserved', networks: ['240.0.0.0/4', '::/96'] },
];

/**
 * Instance metadata and credential services: one request there can hand out the machine's cloud
 * credentials. Refused for routes whatever UPSTREAM_ALLOWED_NETWORKS says.
 */
export const METADATA_ADDRESSES: readonly string[] = [
  // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle... (IMDS), and AWS's IPv6 IMDS.
  '169.254.169.254',
  'fd00:ec2::254',
  // AWS ECS task credentials, and the EKS Pod Identity agent (IPv4 and IPv6).
  '169.254.170.2',
  '169.254.170.23',
  'fd00:ec2::23',
  // Alibaba Cloud metadata.
  '100.100.100.200',
  // Azure's WireServer: a public address, but answers with the VM's extension settings.
  '168.63.129.16',
];

const RANGE_WORDS: Record<RefusedRange, string> = {
  unspecified: 'an unspecified address (0.0.0.0/8 or ::), which is dialled as this host',
  loopback: 'a loopback address (127.0.0.0/8 or ::1)',
  'link-local': 'a link-local address (169.254.0.0/16 or fe80::/10)',
  private: 'a private address (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)',
  shared: 'a carrier-grade NAT address (100.64.0.0/10)',
  'unique-local': 'a unique local IPv6 address (fc00::/7)',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address (240.0.0.0/4, or IPv4-compatible IPv6)',
  metadata: 'a cloud metadata address',
  redis: "the address of the fleet's Redis",
  'not-an-address': 'not an IP address',
};

/** The refusal in an operator's words, e.g. "127.0.0.1 is a loopback address (127.0.0.0/8 or ::1)". */
export function describeRefusal(refusal: AddressRefusal): string {
  return `${refusal.address} is ${RANGE_WORDS[refusal.range]}`;
}

export interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * A network written ADDRESS/PREFIX (10.0.0.0/8, fd00::/8) or a single ADDRESS; undefined when
 * `text` is neither. Bits past the prefix are ignored, as `ip route` does.
 */
export function parseNetwork(text: string): Network | undefined {
  const match = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!match?.[1]) return undefined;
  const address = match[1].replace(/^\[(.*)\]$/, '$1');
  const version = isIP(address);
  if (version === 0) return undefined;
  const bits = version === 4 ? 32 : 128;
  const prefix = match[2] === undefined ? bits : Number(match[2]);
  if (prefix > bits) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function blockListOf(networks: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of networks) {
    const network = parseNetwork(text);
    if (!network)
      throw new TypeError(`"${text}" is not a network (ADDRESS/PREFIX, e.g. 10.0.0.0/8): check it when the configuration is read`);
    list.addSubnet(network.address, network.prefix, network.family);
  }
  return list;
}

const familyOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

const specialLists = SPECIAL_RANGES.map(({ range, networks }) => ({ range, list: blockListOf(networks) }));
const metadataList = blockListOf(METADATA_ADDRESSES);

/** The special range that holds `address`, or undefined for a public address (or not an address). */
export function specialRangeOf(address: string): SpecialRange | undefined {
  if (isIP(address) === 0) return undefined;
  const family = familyOf(address);
  return specialLists.find(({ list }) => list.check(address, family))?.range;
}

export interface AddressPolicyOptions {
  /** UPSTREAM_ALLOWED_NETWORKS: special ranges (and Redis's address) allowed anyway; metadata never is. */
  allowedNetworks?: readonly string[];
  /**
   * Where the fleet's Redis listens (its addresses, resolved by the caller, and its port). Its
   * addresses are refused like a private range, so they can be allowed; the Redis port itself
   * on them never is (no route has any business speaking HTTP to the fleet's database).
   */
  redis?: { addresses: readonly string[]; ports: readonly number[] };
}

/** Says whether a route may dial an address. Synchronous and cheap: it runs on every resolution. */
export interface AddressPolicy {
  /** Why `address` may not be dialled on `port` for a route, or undefined when it may. */
  refusal(address: string, port: number): AddressRefusal | undefined;
}

/**
 * The rules for route addresses, in order: metadata addresses and Redis's own port are always
 * refused; an address in `allowedNetworks` is allowed; the special ranges (loopback, private,
 * link-local, ...) and Redis's addresses are refused; anything else (the public internet) is allowed.
 */
export function createAddressPolicy(options: AddressPolicyOptions = {}): AddressPolicy {
  const allowed = blockListOf(options.allowedNetworks ?? []);
  const redis = new BlockList();
  for (const address of options.redis?.addresses ?? []) {
    if (isIP(address) !== 0) redis.addAddress(address, familyOf(address));
  }
  return {
    refusal(address, port) {
      if (isIP(address) === 0) return { address, range: 'not-an-address', allowable: false };
      const family = familyOf(address);
      if (metadataList.check(address, family)) return { address, range: 'metadata', allowable: false };
      const isRedis = redis.check(address, family);
      if (isRedis && options.redis?.ports.includes(port)) return { address, range: 'redis', allowable: false };
      if (allowed.check(address, family)) return undefined;
      // The range first: it says more of a Redis on loopback or a private address than "Redis" does.
      const range = specialRangeOf(address) ?? (isRedis ? 'redis' : undefined);
      return range ? { address, range, allowable: true } : undefined;
    },
  };
}

/**
 * The addresses and ports of every Redis endpoint a role may reach (the server, the sentinels or
 * the cluster seeds), host names looked up with `resolve`, for the route address policy. A host
 * that does not resolve is named in `unresolved`: not fatal, the special ranges still hold.
 */
export async function redisAddressesOf(
  endpoints: readonly { host: string; port: number }[],
  resolve: (host: string) => Promise<string[]>,
): Promise<{ addresses: string[]; ports: number[]; unresolved: { host: string; error: unknown }[] }> {
  const unresolved: { host: string; error: unknown }[] = [];
  const found = await Promise.all(
    endpoints.map(async ({ host }) => {
      if (isIP(host) !== 0) return [host];
      try {
        return await resolve(host);
      } catch (error) {
        unresolved.push({ host, error });
        return [];
      }
    }),
  );
  return { addresses: [...new Set(found.flat())], ports: [...new Set(endpoints.map((e) => e.port))], unresolved };
}
