import { CA_VARIABLES } from './ca-config.js';
import { CONNECTION_VARIABLES } from './connection-config.js';
import { POLICY_VARIABLES } from './policy-config.js';
import { ROLE_VARIABLES } from './roles.js';
import { UPSTREAM_VARIABLES } from './upstream-config.js';
import { WEBHOOK_VARIABLES } from './webhook-config.js';

/**
 * Prefixes that are certfleet's own: a variable starting with one of them is meant for certfleet,
 * so one that no role reads is most likely misspelled (and silently left at its default).
 * REDIS_, LOG_, NODE_... are shared with other software and left alone.
 */
const OWN_PREFIXES = ['CERTFLEET_', 'EDGE_', 'ISSUER_', 'ACME_', 'RENEW_', 'ALLOW_', 'DNS_', 'UPSTREAM_', 'DASHBOARD_', 'WEBHOOK_'];

/**
 * Every variable some role or the CLI reads, former (deprecated) names included, taken from the
 * specs themselves: a variable added to a spec is known here without another list to keep.
 */
export const KNOWN_VARIABLES: ReadonlySet<string> = new Set([
  ...ROLE_VARIABLES,
  ...CA_VARIABLES,
  ...POLICY_VARIABLES,
  ...UPSTREAM_VARIABLES,
  ...CONNECTION_VARIABLES,
  ...WEBHOOK_VARIABLES,
]);

/**
 * One warning for each variable in `env` with a certfleet prefix that nothing reads, naming the
 * closest known name when it is close enough to be a typo: `EDGE_HTTPS_PROT is set but no
 * certfleet role reads it: did you mean EDGE_HTTPS_PORT?`.
 */
export function unknownVariableWarnings(env: NodeJS.ProcessEnv, known: ReadonlySet<string> = KNOWN_VARIABLES): string[] {
  return Object.keys(env)
    .filter((name) => OWN_PREFIXES.some((prefix) => name.startsWith(prefix)) && !known.has(name))
    .sort()
    .map((name) => {
      const suggestion = closestName(name, known);
      const hint = suggestion ? `did you mean ${suggestion}?` : 'check its name against the configuration tables in the README';
      return `${name} is set but no certfleet role reads it: ${hint}`;
    });
}

/**
 * The known name nearest to `name` by edit distance (a swap of two neighbours counts one), when
 * near enough to be a typo of it: at most 3 edits and at most a third of the name's length.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.floor(name.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Damerau-Levenshtein distance (optimal string alignment): insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = distance;
    }
  }
  return at(a.length, b.length);
}
