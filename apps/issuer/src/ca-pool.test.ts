import { describe, expect, it } from 'vitest';
import { hashTagOf } from '@certfleet/budget';
import { loadCaConfigs } from '@certfleet/config';
import { budgetKeys } from '@certfleet/store';
import { failedAuthzClaim, orderClaims } from './ca-pool.js';

const store = { budgetKeys: budgetKeys('t') };
const [withShare] = loadCaConfigs({ ACME_DIRECTORY_URL: 'https://ca.example/dir', ACME_RENEWAL_BUDGET: '20/20s' });
const [withoutShare] = loadCaConfigs({ ACME_DIRECTORY_URL: 'https://ca.example/dir' });

describe('orderClaims', () => {
  it('makes a renewal that is not ARI-exempt draw on the renewal budget as well as the order budget', () => {
    const claims = orderClaims(withShare!, store, ['a.example.com'], 'renewal');
    expect(claims.map((c) => c.key)).toEqual(expect.arrayContaining(['t:bucket:{ca:default}:renewals', 't:bucket:{ca:default}:orders']));
    expect(claims.find((c) => c.key === 't:bucket:{ca:default}:renewals')?.spec).toEqual({ capacity: 20, refillIntervalMs: 1_000 });
  });

  it('never makes a visitor or pre-provisioning draw on the renewal budget', () => {
    for (const reason of ['visitor', 'provision'] as const) {
      expect(orderClaims(withShare!, store, ['a.example.com'], reason).map((c) => c.key)).not.toContain('t:bucket:{ca:default}:renewals');
    }
  });

  it('holds renewals back by the order budget alone when no renewal budget is set', () => {
    expect(orderClaims(withoutShare!, store, ['a.example.com'], 'renewal').map((c) => c.key)).not.toContain(
      't:bucket:{ca:default}:renewals',
    );
  });

  it("keeps an order's claims in one Redis Cluster slot (its CA's hash tag), so one script takes them all", () => {
    for (const reason of ['visitor', 'renewal'] as const) {
      const claims = orderClaims(withShare!, store, ['a.example.com', 'b.example.org'], reason);
      expect(claims.length).toBeGreaterThanOrEqual(4);
      expect(new Set(claims.map((c) => hashTagOf(c.key)))).toEqual(new Set(['ca:default']));
    }
  });

  it("puts a name's failed-authorization bucket in the name's slot, spread over the Cluster", () => {
    expect(hashTagOf(failedAuthzClaim(withShare!, store, 'a.example.com').key)).toBe('a.example.com');
  });
});
