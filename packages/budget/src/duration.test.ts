import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    [' 5m ', 300_000],
    ['12h', 43_200_000],
    ['1d', 86_400_000],
    ['0s', 0],
  ])('reads %j as %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '15', '1.5s', '-1s', '5 m', '1w', 's', '10sec'])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [500, '500ms'],
    [1_500, '1500ms'],
    [90_000, '90s'],
    [3_600_000, '1h'],
    [604_800_000, '7d'],
  ])('writes %i ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('writes what parseDuration reads back', () => {
    for (const ms of [1, 999, 1_000, 61_000, 7_200_000]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
