import { describe, expect, it } from 'vitest';
import type { ExpiringCertificate, ExpiryWatch } from '@certfleet/store';
import type { HostnameEventType } from './contract.js';
import { publishExpiring } from './expiring.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2);

/** The inventory in memory, with the walk's edge. */
function fakeInventory(entries: Record<string, number>) {
  let cursor: number | undefined;
  const sent = new Map<string, number>();
  const watch: ExpiryWatch = {
    cursor: async () => cursor,
    setCursor: async (value) => {
      cursor = value;
    },
    announced: async (names) => names.map((name) => sent.get(name) ?? null),
    markAnnounced: async (entries) => {
      for (const e of entries) sent.set(e.name, e.notAfter);
    },
    forgetExpired: async (now) => {
      for (const [name, notAfter] of sent) if (notAfter < now) sent.delete(name);
    },
    between: async (from, to, limit) =>
      Object.entries(entries)
        .map(([name, notAfter]): ExpiringCertificate => ({ name, notAfter }))
        .filter((e) => e.notAfter > from && e.notAfter <= to)
        .sort((a, b) => a.notAfter - b.notAfter)
        .slice(0, limit),
  };
  const retired = new Set<string>();
  const certificates = {
    describe: async (name: string) =>
      entries[name] === undefined ? null : ({ notAfter: entries[name], retiredAt: retired.has(name) ? NOW : undefined } as never),
  };
  const published: [HostnameEventType, string, string | undefined][] = [];
  const events = {
    publish: async (type: HostnameEventType, hostname: string, key?: string) => {
      published.push([type, hostname, key]);
    },
  };
  return { entries, watch, certificates, events, published, retired, sent };
}

const scan = (inv: ReturnType<typeof fakeInventory>, now: number, batch = 100) =>
  publishExpiring({ ...inv, now, windowMs: 14 * DAY, batch });

describe('the certificate.expiring scan', () => {
  it('publishes once per name and notAfter as certificates enter the window, keyed by notAfter', async () => {
    const inv = fakeInventory({ soon: NOW + 3 * DAY, later: NOW + 20 * DAY, expired: NOW - DAY });
    expect(await scan(inv, NOW)).toEqual(['soon']);
    expect(inv.published).toEqual([['certificate.expiring', 'soon', String(NOW + 3 * DAY)]]);
    // The next ticks: nothing new until 'later' enters the window.
    expect(await scan(inv, NOW + 60_000)).toEqual([]);
    expect(await scan(inv, NOW + 6 * DAY + 1)).toEqual(['later']);
    expect(inv.published).toHaveLength(2);
  });

  it('announces a renewed certificate again when its new notAfter enters the window', async () => {
    const inv = fakeInventory({ shop: NOW + 10 * DAY });
    await scan(inv, NOW);
    inv.entries.shop = NOW + 70 * DAY;
    expect(await scan(inv, NOW + DAY)).toEqual([]);
    expect(await scan(inv, NOW + 56 * DAY + 1)).toEqual(['shop']);
    expect(inv.published.map((p) => p[2])).toEqual([String(NOW + 10 * DAY), String(NOW + 70 * DAY)]);
  });

  it('skips retired certificates', async () => {
    const inv = fakeInventory({ gone: NOW + DAY, kept: NOW + 2 * DAY });
    inv.retired.add('gone');
    expect(await scan(inv, NOW)).toEqual(['kept']);
  });

  it('announces a certificate issued already inside the window (a lifetime shorter than the window)', async () => {
    const inv = fakeInventory({});
    expect(await scan(inv, NOW)).toEqual([]);
    inv.entries.short = NOW + 2 * DAY;
    expect(await scan(inv, NOW + 1_000)).toEqual(['short']);
    expect(await scan(inv, NOW + 2_000)).toEqual([]);
  });

  it('reads a window larger than a batch page by page, ties at a page edge found already announced', async () => {
    const inv = fakeInventory({ a: NOW + DAY, b: NOW + 2 * DAY, c: NOW + 2 * DAY, d: NOW + 3 * DAY });
    expect(await scan(inv, NOW, 2)).toEqual(['a', 'b']);
    // c shares b's notAfter: read again with it, b is not published twice.
    expect(await scan(inv, NOW, 2)).toEqual(['c']);
    expect(await scan(inv, NOW, 2)).toEqual(['d']);
    expect(await scan(inv, NOW, 2)).toEqual([]);
    expect(inv.published.map((p) => p[1])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('forgets announcements once their certificate expired', async () => {
    const inv = fakeInventory({ a: NOW + DAY });
    await scan(inv, NOW);
    expect(inv.sent.size).toBe(1);
    await scan(inv, NOW + DAY + 1);
    expect(inv.sent.size).toBe(0);
  });

  it('does not stall on a full page of one notAfter', async () => {
    const inv = fakeInventory({ a: NOW + DAY, b: NOW + DAY, c: NOW + 2 * DAY });
    expect(await scan(inv, NOW, 2)).toEqual(['a', 'b']);
    expect(await scan(inv, NOW, 2)).toEqual(['c']);
  });
});
