import { describe, expect, it } from 'vitest';
import {
  createAddressPolicy,
  describeRefusal,
  METADATA_ADDRESSES,
  parseNetwork,
  redisAddressesOf,
  specialRangeOf,
} from './address-policy.js';

describe('specialRangeOf', () => {
  it.each([
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.0.1', 'link-local'],
    ['169.254.169.254', 'link-local'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::7f00:1', 'reserved'],
    // IPv4-mapped IPv6 of each kind, in both spellings: they are dialled as the IPv4 address.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:ac10:1', 'private'],
    ['::ffff:192.168.0.1', 'private'],
    ['::ffff:100.64.0.1', 'shared'],
    ['::ffff:224.0.0.1', 'multicast'],
    ['::ffff:255.255.255.255', 'broadcast'],
    ['::ffff:240.0.0.1', 'reserved'],
  ])('%s is %s', (address, range) => {
    expect(specialRangeOf(address)).toBe(range);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.2.1',
    '192.167.255.255',
    '192.169.0.0',
    '223.255.255.255',
    '2001:db8::1',
    '2606:4700:4700::1111',
    'fbff:ffff::1',
    'fec0::1',
    'fe7f::1',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
  ])('%s is public', (address) => {
    expect(specialRangeOf(address)).toBeUndefined();
  });
});

describe('parseNetwork', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    [' 127.0.0.0/8 ', { address: '127.0.0.0', prefix: 8, family: 'ipv4' }],
    ['10.1.2.3', { address: '10.1.2.3', prefix: 32, family: 'ipv4' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
    ['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['[fd00::]/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
  ])('reads %j', (text, network) => {
    expect(parseNetwork(text)).toEqual(network);
  });

  it.each([
    '',
    '10.0.0.0/33',
    'fd00::/129',
    '10.0.0/8',
    '10.0.0.256/24',
    'intranet.example/8',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0.0 /8',
  ])('refuses %j', (text) => {
    expect(parseNetwork(text)).toBeUndefined();
  });
});

describe('createAddressPolicy', () => {
  const noAllowance = createAddressPolicy();

  it('allows public addresses and refuses every special range, saying which', () => {
    expect(noAllowance.refusal('93.184.216.34', 80)).toBeUndefined();
    expect(noAllowance.refusal('2606:2800:220:1::', 443)).toBeUndefined();
    expect(noAllowance.refusal('127.0.0.1', 8080)).toEqual({ address: '127.0.0.1', range: 'loopback', allowable: true });
    expect(noAllowance.refusal('::ffff:10.0.0.1', 80)).toEqual({ address: '::ffff:10.0.0.1', range: 'private', allowable: true });
  });

  it.each(METADATA_ADDRESSES)('refuses the metadata address %s, even when its network is allowed', (address) => {
    const everything = createAddressPolicy({ allowedNetworks: ['0.0.0.0/0', '::/0', address] });
    expect(everything.refusal(address, 80)).toEqual({ address, range: 'metadata', allowable: false });
    expect(noAllowance.refusal(address, 80)?.range).toBe('metadata');
  });

  it('refuses the IPv4-mapped form of a metadata address too', () => {
    const policy = createAddressPolicy({ allowedNetworks: ['169.254.0.0/16'] });
    expect(policy.refusal('::ffff:169.254.169.254', 80)?.range).toBe('metadata');
    expect(policy.refusal('::ffff:a9fe:a9fe', 80)?.range).toBe('metadata');
    expect(policy.refusal('169.254.1.1', 80)).toBeUndefined();
  });

  it.each([
    [['127.0.0.0/8'], '127.0.0.1', '10.0.0.1'],
    [['127.0.0.0/8'], '::ffff:127.0.0.1', '::1'],
    [['10.0.0.0/8'], '10.20.30.40', '172.16.0.1'],
    [['10.1.2.3'], '10.1.2.3', '10.1.2.4'],
    [['172.16.0.0/12', '192.168.0.0/16'], '192.168.5.5', '100.64.0.1'],
    [['100.64.0.0/10'], '100.64.0.1', '169.254.0.1'],
    [['fd00::/8'], 'fd00::1', 'fc00::1'],
    [['::1'], '::1', '127.0.0.1'],
    [['fe80::/10'], 'fe80::1', '169.254.0.1'],
  ])('with %j allowed, allows %s and still refuses %s', (allowedNetworks, allowed, refused) => {
    const policy = createAddressPolicy({ allowedNetworks });
    expect(policy.refusal(allowed, 80)).toBeUndefined();
    expect(policy.refusal(refused, 80)?.allowable).toBe(true);
  });

  describe("the fleet's Redis", () => {
    const redis = { addresses: ['203.0.113.7', '2001:db8::7'], ports: [6379] };

    it('refuses its addresses, public or not, unless allowed', () => {
      const policy = createAddressPolicy({ redis });
      expect(policy.refusal('203.0.113.7', 80)).toEqual({ address: '203.0.113.7', range: 'redis', allowable: true });
      expect(policy.refusal('::ffff:203.0.113.7', 80)?.range).toBe('redis');
      expect(policy.refusal('2001:db8::7', 443)?.range).toBe('redis');
      expect(policy.refusal('203.0.113.8', 80)).toBeUndefined();
      expect(createAddressPolicy({ redis, allowedNetworks: ['203.0.113.0/24'] }).refusal('203.0.113.7', 80)).toBeUndefined();
    });

    it('names the range of a Redis on a special address', () => {
      const local = createAddressPolicy({ redis: { addresses: ['127.0.0.1'], ports: [6379] } });
      expect(local.refusal('127.0.0.1', 8080)).toEqual({ address: '127.0.0.1', range: 'loopback', allowable: true });
      expect(local.refusal('127.0.0.1', 6379)).toEqual({ address: '127.0.0.1', range: 'redis', allowable: false });
    });

    it('never allows its own port on its addresses', () => {
      const policy = createAddressPolicy({ redis, allowedNetworks: ['0.0.0.0/0', '::/0'] });
      expect(policy.refusal('203.0.113.7', 6379)).toEqual({ address: '203.0.113.7', range: 'redis', allowable: false });
      expect(policy.refusal('2001:db8::7', 6379)?.allowable).toBe(false);
      expect(policy.refusal('203.0.113.7', 6380)).toBeUndefined();
    });
  });

  it('refuses what is not an IP address', () => {
    expect(noAllowance.refusal('upstream.example', 80)).toEqual({ address: 'upstream.example', range: 'not-an-address', allowable: false });
  });

  it('is not built from a network it cannot read', () => {
    expect(() => createAddressPolicy({ allowedNetworks: ['10.0.0.0/33'] })).toThrow('"10.0.0.0/33" is not a network');
  });
});

describe('describeRefusal and redisAddressesOf', () => {
  it('says what the address is in words', () => {
    expect(describeRefusal({ address: '127.0.0.1', range: 'loopback', allowable: true })).toBe(
      '127.0.0.1 is a loopback address (127.0.0.0/8 or ::1)',
    );
    expect(describeRefusal({ address: '169.254.169.254', range: 'metadata', allowable: false })).toBe(
      '169.254.169.254 is a cloud metadata address',
    );
  });

  it('collects the addresses and ports of every Redis endpoint, a host that does not resolve named, not fatal', async () => {
    const resolve = async (host: string) => {
      if (host === 'redis.internal') return ['10.0.0.7', 'fd00::7'];
      throw new Error('ENOTFOUND');
    };
    const found = await redisAddressesOf(
      [
        { host: '127.0.0.1', port: 26379 },
        { host: 'redis.internal', port: 26379 },
        { host: 'gone.internal', port: 26380 },
      ],
      resolve,
    );
    expect(found.addresses).toEqual(['127.0.0.1', '10.0.0.7', 'fd00::7']);
    expect(found.ports).toEqual([26379, 26380]);
    expect(found.unresolved.map((u) => u.host)).toEqual(['gone.internal']);
  });
});
