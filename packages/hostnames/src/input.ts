import type { z } from 'zod';
import { InvalidInputError } from './errors.js';

/**
 * `value` checked against `schema`, or an InvalidInputError naming the first wrong field (its
 * path, else `where`) and what was wrong with it.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || where;
  throw new InvalidInputError(field, `${field}: ${issue?.message ?? 'invalid'}`);
}
