import { describe, expect, it } from 'vitest';
import { eventId, receiverId } from './event-id.js';

describe('event ids', () => {
  it('gives the same id to the same type, hostname and key, in any process', () => {
    expect(eventId('certificate.issued', 'shop.example.com', 'ABC123')).toBe(eventId('certificate.issued', 'shop.example.com', 'ABC123'));
    // Fixed: a receiver that stored ids before an upgrade still recognises a re-delivery after it.
    expect(eventId('certificate.issued', 'shop.example.com', 'ABC123')).toMatch(/^evt_[0-9a-f]{32}$/);
  });

  it('gives different ids when the type, the hostname or the key differs', () => {
    const ids = new Set([
      eventId('certificate.issued', 'shop.example.com', 'ABC123'),
      eventId('certificate.renewed', 'shop.example.com', 'ABC123'),
      eventId('certificate.issued', 'shop2.example.com', 'ABC123'),
      eventId('certificate.issued', 'shop.example.com', 'ABC124'),
      eventId('certificate.issued', 'shop.example.com'),
    ]);
    expect(ids.size).toBe(5);
  });

  it('cannot be made to collide by moving text between the parts', () => {
    expect(eventId('a', 'b.c', 'd')).not.toBe(eventId('a', 'b', '.cd'));
    expect(eventId('a.b', 'c', '')).not.toBe(eventId('a', 'b.c', ''));
  });

  it('names a receiver by a hash of its URL, never by the URL (it may hold a password)', () => {
    const id = receiverId('https://user:s3cret@panel.example/hooks');
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(id).not.toBe(receiverId('https://panel.example/hooks'));
  });
});
