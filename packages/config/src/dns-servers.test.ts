import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseDnsServer } from './dns-servers.js';
import { loadPolicyConfig } from './policy-config.js';
import { loadUpstreamConfig } from './upstream-config.js';

const dnsPolicy = { ALLOW_POLICY: 'dns', ALLOW_DNS_IPS: '192.0.2.1' };

describe('DNS servers', () => {
  it.each([
    ['192.0.2.53', { host: '192.0.2.53', port: 53 }],
    ['192.0.2.53:5353', { host: '192.0.2.53', port: 5353 }],
    ['2001:db8::53', { host: '2001:db8::53', port: 53 }],
    ['[2001:db8::53]', { host: '2001:db8::53', port: 53 }],
    ['[2001:db8::53]:5353', { host: '2001:db8::53', port: 5353 }],
  ])('accepts %s, as the DNS client takes it', (text, server) => expect(parseDnsServer(text)).toEqual(server));

  it.each([
    'dns.google',
    'dns.google:53',
    'localhost',
    '192.0.2.53:0',
    '192.0.2.53:65536',
    '192.0.2.53:53:54',
    '[192.0.2.53]:53',
    '[dns]:53',
    '192.0.2.53:',
  ])('refuses %s (a name, or a port out of range)', (text) => expect(parseDnsServer(text)).toBeUndefined());

  it('refuses a host name in DNS_SERVERS when the configuration is read, as a ConfigError naming it', () => {
    const read = () => loadPolicyConfig({ ...dnsPolicy, DNS_SERVERS: '1.1.1.1,dns.google' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(
      'DNS_SERVERS must be a comma-separated list of DNS servers as IP or IP:PORT, IPv6 as [IP]:PORT (an IP address: looking up a resolver by name would need DNS), got "1.1.1.1,dns.google" ("dns.google" is not one)',
    );
  });

  it('reads DNS_SERVERS and UPSTREAM_DNS_SERVERS alike', () => {
    const servers = '192.0.2.1,[2001:db8::1]:5353';
    const expected = [
      { host: '192.0.2.1', port: 53 },
      { host: '2001:db8::1', port: 5353 },
    ];
    expect(loadPolicyConfig({ ...dnsPolicy, DNS_SERVERS: servers }).dns?.servers).toEqual(expected);
    expect(loadUpstreamConfig({ UPSTREAM_DNS_SERVERS: servers }).dnsServers).toEqual(expected);
    expect(() => loadUpstreamConfig({ UPSTREAM_DNS_SERVERS: 'resolver.local' })).toThrow(/UPSTREAM_DNS_SERVERS must be/);
  });
});
