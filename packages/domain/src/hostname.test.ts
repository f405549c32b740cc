import { describe, expect, it } from 'vitest';
import { checkAllowlistEntry, checkHostname, normalizeHostname } from './hostname.js';

describe('checkHostname', () => {
  it.each([
    ['shop.example.com', 'shop.example.com'],
    ['Shop.Example.COM', 'shop.example.com'],
    ['shop.example.com.', 'shop.example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c-d.example', 'a-b.c-d.example'],
    [`${'a'.repeat(63)}.example.com`, `${'a'.repeat(63)}.example.com`],
    ['123.example.com', '123.example.com'],
  ])('accepts %j as %j', (input, expected) => {
    expect(checkHostname(input)).toEqual({ ok: true, name: expected });
  });

  it.each([
    ['', 'empty'],
    [undefined, 'not-text'],
    ['127.0.0.1', 'ip-literal'],
    ['::1', 'ip-literal'],
    ['[::1]', 'ip-literal'],
    ['1.2.3.4.', 'ip-literal'],
    ['*.example.com', 'wildcard'],
    ['under_score.example.com', 'bad-characters'],
    ['sp ace.example.com', 'bad-characters'],
    ['nul\u0000.example.com', 'bad-characters'],
    ['localhost', 'single-label'],
    ['com', 'single-label'],
    ['co.uk', 'public-suffix'],
    ['foo.localhost', 'forbidden-suffix'],
    ['printer.local', 'forbidden-suffix'],
    ['db.internal', 'forbidden-suffix'],
    [`${'a'.repeat(64)}.example.com`, 'label-length'],
    ['a..example.com', 'label-length'],
    ['-a.example.com', 'label-hyphen'],
    ['a-.example.com', 'label-hyphen'],
    [`${'abcdefghi.'.repeat(26)}com`, 'too-long'],
    ['xn--a.example', 'idna'],
  ])('refuses %j by rule %s', (input, rule) => {
    const check = checkHostname(input);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.rule).toBe(rule);
  });

  it('honours configured forbidden suffixes', () => {
    expect(checkHostname('edge1.fleet.example', { forbiddenSuffixes: ['fleet.example'] }).ok).toBe(false);
    expect(checkHostname('shop.example', { forbiddenSuffixes: ['fleet.example'] }).ok).toBe(true);
  });

  it('normalizeHostname throws an error naming the input and the rule', () => {
    expect(() => normalizeHostname('bad_name.example')).toThrow(/"bad_name.example" is not a valid domain name/);
  });
});

describe('checkAllowlistEntry', () => {
  it('accepts exact names and *.suffix entries, normalised', () => {
    expect(checkAllowlistEntry('Shop.Example.com.')).toEqual({ ok: true, name: 'shop.example.com' });
    expect(checkAllowlistEntry('*.Customers.Example.NET')).toEqual({ ok: true, name: '*.customers.example.net' });
  });
  it('refuses a wildcard over a public suffix, and wildcards elsewhere', () => {
    expect(checkAllowlistEntry('*.com').ok).toBe(false);
    expect(checkAllowlistEntry('*.co.uk').ok).toBe(false);
    expect(checkAllowlistEntry('a.*.example.com').ok).toBe(false);
  });
});
