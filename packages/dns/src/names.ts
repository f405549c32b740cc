/**
 * The one spelling of a DNS name used as a cache key and in answers: lower-case, no trailing
 * dot. DNS names compare case-insensitively, and some servers echo the query's case (or randomise
 * it, "0x20" hardening), so comparing raw strings would miss matches.
 */
export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The name one label up (`a.b.example` -> `b.example`), or null above a single label. */
export function parentName(name: string): string | null {
  const dot = name.indexOf('.');
  return dot === -1 ? null : name.slice(dot + 1);
}
