import type { CertificateSummary } from '@certfleet/store';
import { describe, expect, it } from 'vitest';
import { certificatePage } from './certificate-pages.js';

/** An inventory of `size` names, every third retired; `missing` positions have no certificate hash. */
function inventory(size: number, missing: ReadonlySet<number> = new Set()) {
  const all = Array.from({ length: size }, (_, i) => ({
    name: `n${String(i).padStart(6, '0')}.example`,
    names: [],
    serial: `s${i}`,
    notBefore: 0,
    notAfter: i,
    issuer: 'test',
    issuedAt: 0,
    ...(i % 3 === 0 ? { retiredAt: 1, retiredKind: 'idle' as const, retiredReason: 'idle' } : {}),
  })) as CertificateSummary[];
  return {
    async list(offset: number, count: number) {
      return all.slice(offset, offset + count).filter((_, i) => !missing.has(offset + i));
    },
    async count() {
      return size;
    },
  };
}

const names = (page: { certificates: CertificateSummary[] }) => page.certificates.map((c) => c.name);

describe('certificatePage', () => {
  it('filters before it limits, past the first chunk of the inventory', async () => {
    const page = await certificatePage(inventory(2_500), { from: 0, limit: 900, filter: 'retired' });
    expect(page.certificates).toHaveLength(834);
    expect(page.certificates.every((c) => c.retiredAt !== undefined)).toBe(true);
    expect(page.next).toBeNull();
  });

  it('says where the next match is when more exist, and the next page starts there', async () => {
    const store = inventory(2_500);
    const first = await certificatePage(store, { from: 0, limit: 500, filter: 'active' });
    expect(first.certificates).toHaveLength(500);
    expect(first.next).toBe(751);
    const second = await certificatePage(store, { from: first.next ?? 0, limit: 10_000, filter: 'active' });
    expect(second.certificates).toHaveLength(1_666 - 500);
    expect(new Set([...names(first), ...names(second)]).size).toBe(1_666);
  });

  it('keeps positions exact when names in the inventory have no certificate hash', async () => {
    const store = inventory(2_500, new Set([5, 1_200, 1_201]));
    const seen: string[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const page: Awaited<ReturnType<typeof certificatePage>> = await certificatePage(store, { from, limit: 7, filter: 'all' });
      seen.push(...names(page));
      from = page.next;
    }
    expect(seen).toHaveLength(2_497);
    expect(new Set(seen).size).toBe(2_497);
  });

  it('returns an empty last page past the end', async () => {
    expect(await certificatePage(inventory(10), { from: 50, limit: 5, filter: 'all' })).toEqual({ certificates: [], next: null });
  });
});
