import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';

const TARGET = 'edge.fleet.example';
const FALLBACK = 'DNS:certfleet-fallback.invalid';
const MAX_STALE_S = 8;

/**
 * The dns policy with pebble-challtestsrv as the DNS server of both Pebble and certfleet:
 * customers CNAME their names to the fleet's host name.
 */
describe('dns policy: a name is ours when its owner points it at us', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      edges: 1,
      env: (pebble) => ({
        ALLOW_POLICY: 'dns',
        DNS_SERVERS: pebble.dnsAddress,
        ALLOW_DNS_CNAME_TARGET: TARGET,
        CAA_IDENTITIES: 'pebble.letsencrypt.org',
        DNS_MIN_TTL: '1s',
        DNS_MAX_TTL: '1s',
        DNS_NEGATIVE_TTL: '1s',
        DNS_MAX_STALE: `${MAX_STALE_S}s`,
      }),
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const port = () => stack.edges[0]?.ports.httpsPort ?? 0;
  const check = async (name: string) => {
    const result = await cli(['domains', 'check', name], stack.env);
    return { ...result, line: result.stdout.trim() };
  };

  it('issues a certificate end to end for a name CNAMEd to the fleet', async () => {
    await stack.pebble.challtest('set-cname', { host: 'shop.customer-a.example.', target: `${TARGET}.` });
    const result = await handshake(port(), 'shop.customer-a.example', stack.rootPem);
    expect(result.authorized).toBe(true);
    expect(result.subjectaltname).toBe('DNS:shop.customer-a.example');
    const explained = await check('shop.customer-a.example');
    expect(explained.code).toBe(0);
    expect(explained.line).toBe(
      `shop.customer-a.example: allowed by dns: CNAME chain shop.customer-a.example -> ${TARGET} reaches ${TARGET}`,
    );
  });

  it('denies a name that points elsewhere, and the CA sees no order', async () => {
    await stack.pebble.challtest('add-a', { host: 'elsewhere.customer-b.example.', addresses: ['192.0.2.55'] });
    const result = await handshake(port(), 'elsewhere.customer-b.example', stack.rootPem);
    expect(result.subjectaltname).toBe(FALLBACK);
    expect(ordersFor(stack.pebble, 'elsewhere.customer-b.example')).toBe(0);
    const explained = await check('elsewhere.customer-b.example');
    expect(explained.code).toBe(1);
    expect(explained.line).toContain('elsewhere.customer-b.example: denied by default');
    const decision = stack.edges[0]?.proc.logs('policy decision').find((r) => r.domain === 'elsewhere.customer-b.example');
    expect(decision).toMatchObject({ allowed: false, policy: 'default' });
  });

  it('denies a name whose CAA records name another CA, before any order', async () => {
    await stack.pebble.challtest('set-cname', { host: 'caa.customer-c.example.', target: `${TARGET}.` });
    await stack.pebble.challtest('add-caa', { host: 'customer-c.example.', policies: [{ tag: 'issue', value: 'othercat.example' }] });
    const result = await handshake(port(), 'caa.customer-c.example', stack.rootPem);
    expect(result.subjectaltname).toBe(FALLBACK);
    expect(ordersFor(stack.pebble, 'caa.customer-c.example')).toBe(0);
    const explained = await check('caa.customer-c.example');
    expect(explained.code).toBe(1);
    expect(explained.line).toMatch(/^caa\.customer-c\.example: denied by dns: .*othercat\.example/);
  });

  it('still allows within DNS_MAX_STALE after SERVFAIL follows a good answer, and denies after it', async () => {
    const name = 'stale.customer-d.example';
    await stack.pebble.challtest('set-cname', { host: `${name}.`, target: `${TARGET}.` });
    expect((await handshake(port(), name, stack.rootPem)).authorized).toBe(true);
    const goodAt = Date.now();
    await stack.pebble.challtest('set-servfail', { host: `${name}.` });
    const during = await check(name);
    expect(during.code).toBe(0);
    expect(during.line).toMatch(new RegExp(`^${name}: allowed by dns: CNAME chain .* \\[stale\\]$`));
    // A fixed time is the point: the last good answer must grow older than DNS_MAX_STALE.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, goodAt + MAX_STALE_S * 1000 + 1_500 - Date.now())));
    const after = await check(name);
    expect(after.code).toBe(1);
    expect(after.line).toMatch(new RegExp(`^${name}: denied by dns: .*no answer from the last ${MAX_STALE_S} s`));
  });
});
