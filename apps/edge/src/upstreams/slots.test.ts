import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSlots } from './slots.js';

afterEach(() => vi.useRealTimers());

describe('slots', () => {
  it('grants up to max at once, then hands each freed slot to the longest waiter', () => {
    const slots = createSlots(2, 1_000);
    const order: string[] = [];
    for (const id of ['a', 'b', 'c', 'd'])
      slots.acquire(
        () => order.push(id),
        () => order.push(`${id} timed out`),
      );
    expect(order).toEqual(['a', 'b']);
    expect(slots.waiting).toBe(2);
    slots.release();
    expect(order).toEqual(['a', 'b', 'c']);
    expect(slots.inUse).toBe(2);
    slots.release();
    slots.release();
    slots.release();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(slots.inUse).toBe(0);
  });

  it('times a waiter out, and a cancelled waiter is never granted', () => {
    vi.useFakeTimers();
    const slots = createSlots(1, 500);
    const seen: string[] = [];
    slots.acquire(
      () => seen.push('first'),
      () => seen.push('first timed out'),
    );
    const cancel = slots.acquire(
      () => seen.push('left'),
      () => seen.push('left timed out'),
    );
    slots.acquire(
      () => seen.push('late'),
      () => seen.push('late timed out'),
    );
    cancel();
    vi.advanceTimersByTime(499);
    expect(seen).toEqual(['first']);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(['first', 'late timed out']);
    slots.release();
    expect(slots.inUse).toBe(0);
    expect(slots.waiting).toBe(0);
  });
});
