import { describe, expect, it } from 'vitest';
import { checkAllowlistEntry, checkHostname, normalizeHostname } from './hostname.js';

const long63 = 'a'.repeat(63);

describe('checkHostname accepts and normalises', () => {
  it.each([
    ['shop.example.com', 'shop.example.com'],
    ['Shop.Example.COM', 'shop.example.com'],
    ['SHOP.EXAMPLE.COM', 'shop.example.com'],
    ['shop.example.com.', 'shop.example.com'],
    ['a.b.c.d.e.example.com', 'a.b.c.d.e.example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['XN--BCHER-KVA.example', 'xn--bcher-kva.example'],
    ['faß.de', 'xn--fa-hia.de'],
    ['ελληνικά.example', 'xn--hxargifdar.example'],
    ['☃.example.com', 'xn--n3h.example.com'],
    ['例え.テスト.jp', 'xn--r8jz45g.xn--zckzah.jp'],
    ['EXAMPLE.ＣＯＭ', 'example.com'],
    ['a。b.example', 'a.b.example'],
    ['a-b.c-d.example', 'a-b.c-d.example'],
    ['a--b.example', 'a--b.example'],
    ['1.example.com', '1.example.com'],
    ['123.example.com', '123.example.com'],
    ['0x7f.example.com', '0x7f.example.com'],
    [`${long63}.example.com`, `${long63}.example.com`],
    [`${long63}.${long63}.${long63}.${'a'.repeat(57)}.com`, `${long63}.${long63}.${long63}.${'a'.repeat(57)}.com`],
    ['foo.github.io', 'foo.github.io'],
    ['shop.co.uk', 'shop.co.uk'],
    ['x.y', 'x.y'],
  ])('%j -> %j', (input, expected) => {
    expect(checkHostname(input)).toEqual({ ok: true, name: expected });
  });
});

describe('checkHostname refuses, naming the rule', () => {
  it.each([
    // empty, not text, binary
    ['', 'empty'],
    ['.', 'empty'],
    [undefined, 'not-text'],
    [null, 'not-text'],
    [42, 'not-text'],
    ['\u0000', 'bad-characters'],
    ['nul\u0000.example.com', 'bad-characters'],
    ['\u0001\u0002.example.com', 'bad-characters'],
    ['tab\t.example.com', 'bad-characters'],
    ['line\n.example.com', 'bad-characters'],
    ['del\u007f.example.com', 'bad-characters'],
    // IP literals in every form
    ['127.0.0.1', 'ip-literal'],
    ['127.0.0.1.', 'ip-literal'],
    ['10.1.2.3', 'ip-literal'],
    ['127.1', 'ip-literal'],
    ['0x7f.0.0.1', 'ip-literal'],
    ['0177.0.0.1', 'ip-literal'],
    ['2130706433', 'ip-literal'],
    ['0x7f000001', 'ip-literal'],
    ['::1', 'ip-literal'],
    ['[::1]', 'ip-literal'],
    ['2001:db8::1', 'ip-literal'],
    ['[2001:db8::1]', 'ip-literal'],
    ['::ffff:127.0.0.1', 'ip-literal'],
    ['fe80::1%eth0', 'ip-literal'],
    ['1.2.3.4.5', 'ip-literal'],
    // wildcards and characters
    ['*.example.com', 'wildcard'],
    ['a.*.example.com', 'wildcard'],
    ['*', 'wildcard'],
    ['under_score.example.com', 'bad-characters'],
    ['_acme-challenge.example.com', 'bad-characters'],
    ['sp ace.example.com', 'bad-characters'],
    ['shop.example.com:443', 'bad-characters'],
    ['user@shop.example.com', 'bad-characters'],
    ['shop.example.com/path', 'bad-characters'],
    ['shop!.example.com', 'bad-characters'],
    ['%41.example.com', 'bad-characters'],
    // single labels and public suffixes
    ['localhost', 'single-label'],
    ['com', 'single-label'],
    ['intranet', 'single-label'],
    ['co.uk', 'public-suffix'],
    ['github.io', 'public-suffix'],
    ['com.au', 'public-suffix'],
    // forbidden suffixes
    ['foo.localhost', 'forbidden-suffix'],
    ['printer.local', 'forbidden-suffix'],
    ['db.internal', 'forbidden-suffix'],
    ['x.home.arpa', 'forbidden-suffix'],
    ['a.invalid', 'forbidden-suffix'],
    // lengths
    [`${'a'.repeat(64)}.example.com`, 'label-length'],
    ['a..example.com', 'label-length'],
    ['.example.com', 'label-length'],
    ['example.com..', 'label-length'],
    [`${'abcdefghi.'.repeat(26)}com`, 'too-long'],
    [`${long63}.${long63}.${long63}.${'a'.repeat(58)}.com`, 'too-long'],
    ['a'.repeat(2000), 'too-long'],
    // hyphens
    ['-a.example.com', 'label-hyphen'],
    ['a-.example.com', 'label-hyphen'],
    ['shop.-example.com', 'label-hyphen'],
    // IDNA
    ['xn--.example', 'idna'],
    ['xn--a.example', 'idna'],
  ])('%j by rule %s', (input, rule) => {
    const check = checkHostname(input);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.rule).toBe(rule);
      expect(check.reason.length).toBeGreaterThan(10);
    }
  });

  it("honours configured forbidden suffixes (the fleet's own names)", () => {
    expect(checkHostname('edge1.fleet.example', { forbiddenSuffixes: ['fleet.example'] })).toMatchObject({
      ok: false,
      rule: 'forbidden-suffix',
    });
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
