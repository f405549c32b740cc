import { AcmeProblemError, AcmeValidationError } from '@certfleet/acme';
import { Registry } from '@certfleet/observability';
import { redisKeys } from '@certfleet/store';
import { describe, expect, it } from 'vitest';
import { caBudgets, createIssuerMetrics, problemTypeOf } from './certificate-metrics.js';
import { fakeCa } from './issue/fakes.js';

const responder = { prepare: async () => {}, cleanUp: async () => {} } as never;

describe('issuer ACME metrics', () => {
  it('counts an issued order and a failed one by CA, result and problem type', async () => {
    const registry = new Registry();
    const metrics = createIssuerMetrics(registry);
    const good = fakeCa('pebble');
    const refused = new AcmeValidationError('bad.example', 'the CA reached 203.0.113.9', {
      problems: [{ type: 'urn:ietf:params:acme:error:connection', detail: 'refused', status: 400 }],
    });
    const bad = fakeCa('backup', { fails: refused });
    const [pebble, backup] = metrics.countOrders([good.ca, bad.ca]);
    await (await pebble!.account()).issue(['ok.example'], responder, 'ecdsa');
    await expect((await backup!.account()).issue(['bad.example'], responder, 'ecdsa')).rejects.toBe(refused);
    const text = await registry.metrics();
    expect(text).toContain('certfleet_acme_orders_total{ca="pebble",result="issued"} 1');
    expect(text).toContain('certfleet_acme_orders_total{ca="backup",result="validation"} 1');
    expect(text).toContain('certfleet_acme_order_failures_total{ca="backup",problem="connection"} 1');
    expect(text).toContain('certfleet_acme_order_duration_seconds_count{ca="pebble",result="issued"} 1');
    // The wrapped account still orders at the CA it wraps.
    expect(good.orders.map((o) => o.names)).toEqual([['ok.example']]);
  });

  it('counts and times ACME requests by endpoint, method and status', async () => {
    const registry = new Registry();
    const metrics = createIssuerMetrics(registry);
    metrics.onAcmeRequest({ endpoint: '/acme/new-order', method: 'POST', status: '201', durationSeconds: 0.02 });
    metrics.onAcmeRequest({ endpoint: '/acme/new-order', method: 'POST', status: '201', durationSeconds: 0.03 });
    metrics.onAcmeRequest({ endpoint: '/my-order/:id', method: 'POST', status: 'error', durationSeconds: 15 });
    const text = await registry.metrics();
    expect(text).toContain('certfleet_http_acme_client_request_count{endpoint="/acme/new-order",method="POST",status="201"} 2');
    expect(text).toContain(
      'certfleet_http_acme_client_request_duration_seconds_bucket{le="0.05",endpoint="/acme/new-order",method="POST",status="201"} 2',
    );
    expect(text).toContain('certfleet_http_acme_client_request_count{endpoint="/my-order/:id",method="POST",status="error"} 1');
  });
});

describe('problemTypeOf', () => {
  it("shortens RFC 8555 problem types and bounds what a CA may send to 'other'", () => {
    const problem = (type: string) => new AcmeProblemError(type, 400, 'detail', 'https://ca.example/x', undefined);
    expect(problemTypeOf(problem('urn:ietf:params:acme:error:rateLimited'))).toBe('rateLimited');
    expect(problemTypeOf(problem('urn:ietf:params:acme:error:{evil="1"}'))).toBe('other');
    expect(problemTypeOf(problem(`urn:ietf:params:acme:error:${'a'.repeat(100)}`))).toBe('other');
    expect(problemTypeOf(problem('about:blank'))).toBe('other');
    expect(problemTypeOf(new AcmeValidationError('x.example', 'no problems listed'))).toBe('other');
    expect(problemTypeOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('network');
    expect(problemTypeOf(new Error('something else'))).toBe('other');
  });
});

describe('caBudgets', () => {
  it("exports each CA's order bucket and renewal share, never a per-domain bucket", () => {
    const keys = redisKeys('p').buckets;
    const withShare = fakeCa('a', { config: { renewalBudget: { capacity: 10, refillIntervalMs: 1000 } } }).ca.config;
    const without = fakeCa('b').ca.config;
    expect(caBudgets([withShare, without], keys).map(({ ca, bucket, key }) => ({ ca, bucket, key }))).toEqual([
      { ca: 'a', bucket: 'orders', key: keys.caOrders('a') },
      { ca: 'a', bucket: 'renewals', key: keys.caRenewals('a') },
      { ca: 'b', bucket: 'orders', key: keys.caOrders('b') },
    ]);
  });
});
