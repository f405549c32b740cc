import { describe, expect, it } from 'vitest';
import { parseEnv } from './env.js';
import { duration, onOff } from './fields.js';

describe('duration', () => {
  const spec = { WAIT: duration(1_000, 86_400_000).default('15s') };

  it.each([
    ['15s', 15_000],
    ['1000ms', 1_000],
    ['5m', 300_000],
    ['12h', 43_200_000],
    ['1d', 86_400_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseEnv(spec, { WAIT: text }).WAIT).toBe(ms);
  });

  it('uses the default when unset', () => {
    expect(parseEnv(spec, {}).WAIT).toBe(15_000);
  });

  it.each([
    ['15', 'not of that form'],
    ['1.5s', 'not of that form'],
    ['999ms', 'out of range'],
    ['2d', 'out of range'],
  ])('refuses %s, naming the variable, the form and the range', (text, detail) => {
    expect(() => parseEnv(spec, { WAIT: text })).toThrow(
      `WAIT must be a duration such as 500ms, 15s, 5m, 12h or 1d, from 1s to 1d, got "${text}" (${detail})`,
    );
  });
});

describe('onOff', () => {
  const spec = { SWITCH: onOff().default('on') };

  it.each([
    ['on', true],
    ['OFF', false],
    ['true', true],
    ['0', false],
    [' yes ', true],
    ['no', false],
  ])('reads %s as %s', (text, value) => {
    expect(parseEnv(spec, { SWITCH: text }).SWITCH).toBe(value);
  });

  it('uses the default when unset or empty', () => {
    expect(parseEnv(spec, {}).SWITCH).toBe(true);
    expect(parseEnv(spec, { SWITCH: '' }).SWITCH).toBe(true);
  });

  it('refuses anything else, naming the variable and the two words', () => {
    expect(() => parseEnv(spec, { SWITCH: 'maybe' })).toThrow('SWITCH must be on or off, got "maybe"');
  });
});
