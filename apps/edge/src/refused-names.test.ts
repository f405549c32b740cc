import { describe, expect, it } from 'vitest';
import { RefusedNames } from './refused-names.js';

function refusedNames(ttlMs: number, max = 100) {
  let now = 1_000_000;
  return { names: new RefusedNames({ ttlMs, max, clock: () => now }), advance: (ms: number) => (now += ms) };
}

describe('RefusedNames', () => {
  it('remembers a refusal for its ttl, then forgets it', () => {
    const { names, advance } = refusedNames(5_000);
    names.add('a.example', 'denied');
    expect(names.get('a.example')).toBe('denied');
    expect(names.get('b.example')).toBeUndefined();
    advance(4_999);
    expect(names.get('a.example')).toBe('denied');
    advance(1);
    expect(names.get('a.example')).toBeUndefined();
  });

  it('remembers a refusal no longer than its reason lasts', () => {
    const { names, advance } = refusedNames(5_000);
    names.add('a.example', 'denied', 1_000);
    names.add('b.example', 'limited', 60_000);
    advance(1_000);
    expect(names.get('a.example')).toBeUndefined();
    expect(names.get('b.example')).toBe('limited');
  });

  it('remembers nothing with a ttl of 0', () => {
    const { names } = refusedNames(0);
    names.add('a.example', 'denied');
    expect(names.get('a.example')).toBeUndefined();
  });

  it('keeps at most max names', () => {
    const { names } = refusedNames(5_000, 2);
    names.add('a.example', 'denied');
    names.add('b.example', 'denied');
    names.add('c.example', 'denied');
    expect([names.get('a.example'), names.get('b.example'), names.get('c.example')]).toEqual([undefined, 'denied', 'denied']);
  });

  it('forgets a name on delete', () => {
    const { names } = refusedNames(5_000);
    names.add('a.example', 'limited');
    names.delete('a.example');
    expect(names.get('a.example')).toBeUndefined();
  });
});
