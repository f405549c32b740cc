import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { wholeNumber } from './options.js';

describe('wholeNumber', () => {
  const limit = wholeNumber('--limit', 1, 10_000);

  it('accepts whole numbers in range', () => {
    expect(limit('1')).toBe(1);
    expect(limit(' 250 ')).toBe(250);
    expect(limit('10000')).toBe(10_000);
  });

  it.each(['abc', '', '0', '-1', '1.5', '1e3', '10001', '0x10', '9'.repeat(400), '5abc'])(
    'refuses "%s", naming the option and the range',
    (value) => {
      expect(() => limit(value)).toThrow(InvalidArgumentError);
      expect(() => limit(value)).toThrow(/^--limit must be a whole number from 1 to 10000, got "/);
    },
  );

  it('quotes at most 40 characters of a hostile value', () => {
    expect(() => limit('x'.repeat(10_000))).toThrow(new RegExp(`got "${'x'.repeat(40)}"$`));
  });
});
