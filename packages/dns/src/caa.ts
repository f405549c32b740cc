import { normalizeName } from './names.js';
import type { CaaRecord } from './response.js';

/** Whether a CA may issue, and why, in words an operator or a customer can act on. */
export interface CaaVerdict {
  permitted: boolean;
  reason: string;
}

// Tags RFC 8659 defines. A critical record with any other tag forbids issuance (section 4.5):
// the CA cannot know what the domain owner asked for.
const KNOWN_TAGS = new Set(['issue', 'issuewild', 'iodef']);
const CRITICAL = 128;
// issuer-domain-name (RFC 8659 4.2): labels of letters, digits and inner hyphens.
const ISSUER_DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/**
 * Whether the relevant CAA RRset (see relevantCaa) lets one of `caIdentities` (the CA's issuer
 * domains, e.g. "letsencrypt.org") issue a certificate for a non-wildcard name (RFC 8659 4.2,
 * 4.5, 5.3). Tags compare case-insensitively; `issuewild` and `iodef` do not matter here. Issue
 * records form a set: one naming the CA permits even next to `issue ";"`, which names nobody.
 * Parameters after ";" (RFC 8657 accounturi, validationmethods) are not checked: the CA does.
 *
 * @param owner where the records were found, for the reason text
 */
export function caaPermits(records: readonly CaaRecord[], caIdentities: readonly string[], owner?: string | null): CaaVerdict {
  const at = `CAA at ${owner ?? 'the domain'}`;
  if (records.length === 0) return { permitted: true, reason: 'no CAA records: any CA may issue' };

  const criticalUnknown = records.find((r) => (r.flags & CRITICAL) !== 0 && !KNOWN_TAGS.has(r.tag.toLowerCase()));
  if (criticalUnknown) {
    return {
      permitted: false,
      reason: `${at} has a critical record with an unknown tag (${show(criticalUnknown)}), so no CA may issue: the domain owner must remove it or clear its critical flag`,
    };
  }

  const issue = records.filter((r) => r.tag.toLowerCase() === 'issue');
  if (issue.length === 0) {
    return { permitted: true, reason: `${at} has no issue records (${records.map(show).join(', ')}): any CA may issue` };
  }

  const wanted = new Set(caIdentities.map(normalizeName));
  const issuers = issue.map((r) => issuerOf(r.value));
  const match = issuers.find((issuer) => issuer !== null && wanted.has(issuer));
  if (match) return { permitted: true, reason: `${at} allows "${match}"` };

  const named = [...new Set(issuers.filter((i): i is string => i !== null && i !== ''))];
  const asked = caIdentities.map((id) => `"${id}"`).join(', ') || 'no CA identity configured';
  if (named.length === 0) {
    return {
      permitted: false,
      reason: `${at} forbids issuance by every CA (${issue.map(show).join(', ')}): the domain owner must add an issue record for ${asked}`,
    };
  }
  return {
    permitted: false,
    reason: `${at} allows only ${named.map((n) => `"${n}"`).join(', ')}, not ${asked}: the domain owner must add an issue record for it`,
  };
}

/** The issuer domain of an issue value; '' for ";" (names nobody); null when malformed (names nobody). */
function issuerOf(value: string): string | null {
  const domain = normalizeName((value.split(';')[0] ?? '').trim());
  if (domain === '') return '';
  return ISSUER_DOMAIN.test(domain) ? domain : null;
}

function show(record: CaaRecord): string {
  return `${record.flags} ${record.tag} "${record.value}"`;
}
