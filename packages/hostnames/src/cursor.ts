import { z } from 'zod';
import { InvalidInputError } from './errors.js';

/**
 * Where a page ends, handed to the client as an opaque string (base64url JSON) and taken back
 * as `cursor`. Not signed: a forged cursor can only start a page elsewhere in an index the
 * caller may read anyway; it is checked for shape and for the kind of listing it belongs to.
 */
export type Cursor = { k: 'name'; after: string } | { k: 'expiry'; name: string; notAfter: number };

const CursorSchema = z.discriminatedUnion('k', [
  z.strictObject({ k: z.literal('name'), after: z.string().min(1).max(253) }),
  z.strictObject({ k: z.literal('expiry'), name: z.string().min(1).max(253), notAfter: z.number().int().nonnegative() }),
]);

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The cursor in `text`, of kind `kind`; an InvalidInputError on `cursor` for anything else. */
export function decodeCursor<K extends Cursor['k']>(text: string, kind: K): Extract<Cursor, { k: K }> {
  const refuse = (why: string) =>
    new InvalidInputError(
      'cursor',
      `cursor ${why}: pass back the next_cursor of the previous page unchanged, or leave it out to start again`,
    );
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(text)) throw refuse('is not one this API gave (not base64url)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw refuse('is not one this API gave (not JSON inside)');
  }
  const result = CursorSchema.safeParse(parsed);
  if (!result.success) throw refuse('is not one this API gave (wrong shape)');
  if (result.data.k !== kind) {
    throw refuse(
      `belongs to a listing ${result.data.k === 'expiry' ? 'with' : 'without'} expiring_before; keep the same filters while paging`,
    );
  }
  return result.data as Extract<Cursor, { k: K }>;
}
