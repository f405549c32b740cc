import { describe, expect, it } from 'vitest';
import { loadUpstreamConfig } from './upstream-config.js';

describe('upstream configuration', () => {
  it('has the documented defaults', () => {
    expect(loadUpstreamConfig({})).toEqual({
      resolveIntervalMs: 15_000,
      maxIps: 3,
      dnsServers: undefined,
      allowedNetworks: [],
      failTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
      headerTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      maxSockets: 256,
      queueTimeoutMs: 10_000,
      hsts: undefined,
    });
  });

  it('reads durations, DNS servers with and without a port, and an HSTS value', () => {
    const config = loadUpstreamConfig({
      UPSTREAM_RESOLVE_INTERVAL: '2s',
      UPSTREAM_DNS_SERVERS: '127.0.0.1:8053, 10.0.0.53, [::1]:5353',
      UPSTREAM_FAIL_TIMEOUT: '1m',
      EDGE_HSTS: 'max-age=31536000;includeSubDomains ; preload',
    });
    expect(config.resolveIntervalMs).toBe(2_000);
    expect(config.failTimeoutMs).toBe(60_000);
    expect(config.dnsServers).toEqual([
      { host: '127.0.0.1', port: 8053 },
      { host: '10.0.0.53', port: 53 },
      { host: '::1', port: 5353 },
    ]);
    expect(config.hsts).toBe('max-age=31536000; includeSubDomains; preload');
  });

  it('reads the networks routes may reach though they are private, IPv4 and IPv6', () => {
    const config = loadUpstreamConfig({ UPSTREAM_ALLOWED_NETWORKS: '10.0.0.0/8, 127.0.0.0/8,fd00::/8, 192.168.1.10' });
    expect(config.allowedNetworks).toEqual(['10.0.0.0/8', '127.0.0.0/8', 'fd00::/8', '192.168.1.10']);
  });

  it.each([
    [
      { UPSTREAM_ALLOWED_NETWORKS: '10.0.0.0/33' },
      'UPSTREAM_ALLOWED_NETWORKS must be a comma-separated list of networks written ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8 (or a single address), got "10.0.0.0/33" ("10.0.0.0/33" is not one)',
    ],
    [{ UPSTREAM_ALLOWED_NETWORKS: '10.0.0.0/8,intranet' }, '("intranet" is not one)'],
    [{ UPSTREAM_ALLOWED_NETWORKS: '10.0.0.0/8,' }, '(an empty item)'],
    [
      { UPSTREAM_RESOLVE_INTERVAL: '15' },
      'UPSTREAM_RESOLVE_INTERVAL must be a duration such as 500ms, 15s, 5m, 12h or 1d, from 1s to 1h, got "15" (not of that form)',
    ],
    [
      { UPSTREAM_RESOLVE_INTERVAL: '100ms' },
      'UPSTREAM_RESOLVE_INTERVAL must be a duration such as 500ms, 15s, 5m, 12h or 1d, from 1s to 1h, got "100ms" (out of range)',
    ],
    [{ UPSTREAM_MAX_IPS: '0' }, 'UPSTREAM_MAX_IPS must be a whole number of addresses from 1 to 64, got "0"'],
    [
      { UPSTREAM_DNS_SERVERS: 'dns.example:53' },
      'UPSTREAM_DNS_SERVERS must be a comma-separated list of DNS servers as IP or IP:PORT, IPv6 as [IP]:PORT (an IP address: looking up a resolver by name would need DNS), got "dns.example:53" ("dns.example:53" is not one)',
    ],
    [{ UPSTREAM_DNS_SERVERS: '127.0.0.1:99999' }, '"127.0.0.1:99999" is not one'],
    [
      { EDGE_HSTS: 'includeSubDomains' },
      'EDGE_HSTS must be a Strict-Transport-Security value such as "max-age=31536000; includeSubDomains"',
    ],
    [
      { UPSTREAM_CONNECT_TIMEOUT: '10m' },
      'UPSTREAM_CONNECT_TIMEOUT must be a duration such as 500ms, 15s, 5m, 12h or 1d, from 50ms to 5m, got "10m" (out of range)',
    ],
  ])('refuses %j, saying what is expected', (env, message) => {
    expect(() => loadUpstreamConfig(env)).toThrow(message);
  });
});
