import { bareHostnameObject, type HostnameObject, type ListOptions } from '@certfleet/hostnames';
import { describe, expect, it } from 'vitest';
import { detailOf, listByState } from './domains-list.js';

function hostname(name: string, over: Partial<HostnameObject> = {}): HostnameObject {
  return { ...bareHostnameObject(name, 'failed'), ...over };
}

/** A service over `all` in name order whose cursor is the last name of a page. */
function service(all: HostnameObject[]) {
  const asked: ListOptions[] = [];
  return {
    asked,
    async list(options: ListOptions) {
      asked.push(options);
      const from = options.cursor ? all.findIndex((h) => h.hostname === options.cursor) + 1 : 0;
      const page = all.filter((h) => h.status === options.status).filter((h) => all.indexOf(h) >= from);
      const hostnames = page.slice(0, options.limit ?? 100);
      const last = hostnames.at(-1);
      return { hostnames, next_cursor: page.length > hostnames.length && last ? last.hostname : null };
    },
  };
}

const cooling = (name: string) => hostname(name, { cooldown_until: '2026-12-02T15:00:00.000Z' });

describe('listByState', () => {
  const all = [hostname('a.example'), cooling('b.example'), hostname('c.example'), cooling('d.example'), cooling('e.example')];

  it('lists failing names cooling down, across pages, without skipping one at a page boundary', async () => {
    const s = service(all);
    const first = await listByState(s, { state: 'cooling', limit: 2 });
    expect(first.hostnames.map((h) => h.hostname)).toEqual(['b.example', 'd.example']);
    expect(s.asked.map((a) => a.limit)).toEqual([2, 1, 1]);
    const second = await listByState(s, { state: 'cooling', limit: 2, cursor: first.next ?? undefined });
    expect(second.hostnames.map((h) => h.hostname)).toEqual(['e.example']);
    expect(second.next).toBeNull();
  });

  it('lists every failing name for failed, and pending names held by a budget for held', async () => {
    expect((await listByState(service(all), { state: 'failed', limit: 10 })).hostnames).toHaveLength(5);
    const held = hostname('h.example', { status: 'pending', hold: { budget: 'le:domain:example', until: '2026-12-02T18:00:00.000Z' } });
    const page = await listByState(service([hostname('p.example', { status: 'pending' }), held]), { state: 'held', limit: 10 });
    expect(page.hostnames).toEqual([held]);
    expect(detailOf(held)).toBe('held by CA budget le:domain:example until 2026-12-02T18:00:00.000Z');
  });
});

describe('detailOf', () => {
  it('names the cool-down and the validation error a customer can act on', () => {
    const h = cooling('b.example');
    h.validation_errors = [
      { at: '2026-12-02T14:00:00.000Z', type: 'urn:ietf:params:acme:error:connection', detail: 'point the CNAME at edge' },
    ];
    expect(detailOf(h)).toBe('cooling down until 2026-12-02T15:00:00.000Z; connection: point the CNAME at edge');
  });
});
