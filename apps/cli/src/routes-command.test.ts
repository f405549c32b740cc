import { describe, expect, it } from 'vitest';
import { createAddressPolicy } from '@certfleet/config';
import { UsageError } from './admin.js';
import { checkRouteUrl } from './routes-command.js';

const strict = createAddressPolicy({ redis: { addresses: ['10.0.0.9'], ports: [6379] } });
const lenient = createAddressPolicy({
  allowedNetworks: ['127.0.0.0/8', '10.0.0.0/8', '169.254.0.0/16'],
  redis: { addresses: ['10.0.0.9'], ports: [6379] },
});

describe('checkRouteUrl', () => {
  it.each(['http://93.184.216.34:8080', 'https://app.example/shop', 'http://internal.example:8080'])('accepts %s', (url) => {
    expect(checkRouteUrl(url, strict).href.startsWith(url)).toBe(true);
  });

  it.each([
    [
      'http://127.0.0.1:1/',
      '"http://127.0.0.1:1/" is refused for a route: 127.0.0.1 is a loopback address (127.0.0.0/8 or ::1); a route may reach such an address only when its network is listed in UPSTREAM_ALLOWED_NETWORKS',
    ],
    ['http://2130706433/', '127.0.0.1 is a loopback address'],
    ['http://localhost:3000', 'localhost is loopback (127.0.0.1 is a loopback address'],
    ['http://[::1]:8080', '::1 is a loopback address'],
    ['http://[::ffff:10.0.0.5]/', '::ffff:a00:5 is a private address'],
    ['http://10.0.3.7:8080', '10.0.3.7 is a private address (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)'],
    ['http://0.0.0.0:8080', '0.0.0.0 is an unspecified address'],
    [
      'http://169.254.169.254/',
      '"http://169.254.169.254/" is refused for a route: 169.254.169.254 is a cloud metadata address; no route may reach it, whatever UPSTREAM_ALLOWED_NETWORKS says',
    ],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254 is a cloud metadata address'],
    ['http://admin:hunter2@93.184.216.34/', '"http://***@93.184.216.34/" must not carry credentials (user:password@)'],
    ['ftp://93.184.216.34', 'must start with http:// or https://'],
  ])('refuses %s with a message that says why and what to do', (url, message) => {
    expect(() => checkRouteUrl(url, strict)).toThrow(UsageError);
    expect(() => checkRouteUrl(url, strict)).toThrow(message);
  });

  it('accepts an address whose network is allowed, but never metadata or the Redis port', () => {
    expect(checkRouteUrl('http://127.0.0.1:1/', lenient).hostname).toBe('127.0.0.1');
    expect(checkRouteUrl('http://10.0.0.9:8080', lenient).hostname).toBe('10.0.0.9');
    expect(() => checkRouteUrl('http://169.254.169.254/', lenient)).toThrow('cloud metadata address');
    expect(() => checkRouteUrl('http://10.0.0.9:6379', lenient)).toThrow("no route may reach the fleet's Redis on its port");
  });
});
