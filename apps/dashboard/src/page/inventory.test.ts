import { bareHostnameObject, type HostnameObject } from '@certfleet/hostnames';
import { describe, expect, it } from 'vitest';
import { esc, query } from './html.js';
import { hostnameSection, inventoryPage } from './inventory.js';

const hostile = '<script>alert("x")</script>&\'';

function object(over: Partial<HostnameObject> = {}): HostnameObject {
  return {
    ...bareHostnameObject('shop.example.com', 'failed'),
    validation_errors: [
      { at: '2026-12-02T14:00:00.000Z', type: 'urn:ietf:params:acme:error:connection', detail: `the CA reached 203.0.113.9 ${hostile}` },
    ],
    hold: { budget: 'le:domain:example.com', until: '2026-12-02T18:00:00.000Z' },
    cooldown_until: '2026-12-02T14:10:00.000Z',
    custom_metadata: { plan: hostile },
    ...over,
  };
}

describe('the inventory page', () => {
  it('escapes every value it shows', () => {
    expect(esc(hostile)).toBe('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;');
    const html = inventoryPage({
      counts: { pending: 1, active: 2, failed: 3, retired: 4, total: 10 },
      expiring: [],
      search: { q: hostile, status: 'failed' },
      results: { hostnames: [object()], next: hostile },
      selected: object(),
      notice: hostile,
    });
    expect(html).not.toContain('<script');
    expect(html).not.toContain(hostile);
  });

  it('shows the hold, the cool-down and each validation error with its problem type', () => {
    const html = hostnameSection(object());
    expect(html).toContain('CA budget <code>le:domain:example.com</code> until 2026-12-02T18:00:00Z');
    expect(html).toContain('<dt>cool-down until</dt><dd>2026-12-02T14:10:00Z</dd>');
    expect(html).toMatch(/<td>2026-12-02T14:00:00Z<\/td><td>connection<\/td><td>the CA reached 203\.0\.113\.9 /);
    expect(html).toContain('id="retry-button"');
  });

  it('says in the results why a name waits', () => {
    const html = inventoryPage({
      counts: null,
      expiring: [],
      search: { q: '', status: '' },
      results: { hostnames: [object(), object({ hostname: 'cool.example.com', hold: null })], next: null },
      selected: null,
      notice: null,
    });
    expect(html).toContain('<td>held by le:domain:example.com until 2026-12-02T18:00:00Z</td>');
    expect(html).toContain('<td>cooling down until 2026-12-02T14:10:00Z</td>');
  });

  it('keeps the search in result links and the next page link', () => {
    expect(query({ q: 'a b&c', status: 'failed', cursor: undefined, host: '' })).toBe('?q=a+b%26c&status=failed');
    const html = inventoryPage({
      counts: null,
      expiring: [],
      search: { q: 'shop', status: 'failed' },
      results: { hostnames: [object()], next: 'CURSOR' },
      selected: null,
      notice: null,
    });
    expect(html).toContain('href="/?q=shop&amp;status=failed&amp;host=shop.example.com"'.replaceAll('&amp;', '&#38;'));
    expect(html).toContain('id="next-page" href="/?q=shop&#38;status=failed&#38;cursor=CURSOR"');
  });
});
