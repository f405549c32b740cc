import { checkHostname, DEFAULT_FORBIDDEN_SUFFIXES } from '@certfleet/domain';
import { InvalidRouteError, parseRouteUrl } from '@certfleet/store';
import { InvalidInputError } from './errors.js';

/** The normalised hostname for `input` (lower case, punycode, no trailing dot), or an error on `field`. */
export function normalName(input: unknown, forbidden: readonly string[] = [], field = 'hostname'): string {
  const check = checkHostname(input, { forbiddenSuffixes: [...DEFAULT_FORBIDDEN_SUFFIXES, ...forbidden] });
  if (check.ok) return check.name;
  const shown = typeof input === 'string' ? `"${input.length > 80 ? `${input.slice(0, 80)}…` : input}"` : 'the value';
  throw new InvalidInputError(field, `${field} ${shown} is not a hostname certfleet can serve: ${check.reason} (rule ${check.rule})`);
}

/** The upstream URL as given, after the edge's own check; an error on `upstream` naming what is wrong. */
export function checkedUpstream(upstream: string): string {
  try {
    parseRouteUrl(upstream);
    return upstream;
  } catch (error) {
    if (error instanceof InvalidRouteError) throw new InvalidInputError('upstream', `upstream ${error.message}`, { cause: error });
    throw error;
  }
}

/** `q`: the start of a hostname as stored (ASCII: letters, digits, hyphens, dots; punycode for IDN). */
export function prefixQuery(q: string): string {
  const prefix = q.toLowerCase();
  if (!/^[a-z0-9.-]{1,253}$/.test(prefix)) {
    throw new InvalidInputError(
      'q',
      `q "${q.slice(0, 80)}" must be the start of a hostname: letters, digits, hyphens and dots (an IDN in its xn-- form)`,
    );
  }
  return prefix;
}

/** Same JSON whatever the order of object keys: bodies compare by content. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
