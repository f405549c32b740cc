import { AcmeProblemError, AcmeValidationError } from '@certfleet/acme';

const PROBLEM_PREFIX = 'urn:ietf:params:acme:error:';

/** Where customers should point their names: the dns policy's CNAME target and fleet addresses, when configured. */
export interface EdgeTarget {
  cnameTarget?: string | undefined;
  ips?: readonly string[] | undefined;
}

/** A failed validation as a customer can act on it. */
export interface CustomerProblem {
  type: string;
  detail: string;
}

// An address as CAs put it first in a validation problem's detail ("203.0.113.9: Fetching …",
// "[2001:db8::1]:80 …") or inside a dial error ("dial tcp 203.0.113.9:80: …").
const IPV4 = /\b(\d{1,3}(?:\.\d{1,3}){3})\b/;
const IPV6 = /\[([0-9a-fA-F:]+)\]/;

/** The address the CA says it reached, if its detail names one. */
export function reachedAddress(detail: string): string | undefined {
  return IPV4.exec(detail)?.[1] ?? IPV6.exec(detail)?.[1];
}

/**
 * The customer-facing problem for a failed order: the CA's problem type (from the problem
 * fields the failure classification reads, never from message text), and a detail that says
 * what to do. For a failure at the customer's address (connection, unauthorized, incorrect
 * response, TLS) it names the address the CA reached and, when the fleet's addresses are known,
 * whether it is ours.
 */
export function customerProblem(name: string, error: unknown, target: EdgeTarget = {}): CustomerProblem {
  const problem =
    error instanceof AcmeValidationError
      ? (error.problems.find((p) => p.detail) ?? error.problems[0])
      : error instanceof AcmeProblemError
        ? { type: error.type, detail: error.detail }
        : undefined;
  const type = problem?.type || `${PROBLEM_PREFIX}unauthorized`;
  const caSaid = problem?.detail ?? (error instanceof Error ? error.message : String(error));
  const pointAt = target.cnameTarget
    ? `point the CNAME of ${name} at ${target.cnameTarget}`
    : target.ips?.length
      ? `point ${name} (A/AAAA) at ${target.ips.join(', ')}`
      : `point ${name} (CNAME or A/AAAA record) at this service's edge`;
  const short = type.replace(PROBLEM_PREFIX, '');
  const address = reachedAddress(caSaid);
  if (['connection', 'unauthorized', 'incorrectResponse', 'tls'].includes(short) && address) {
    const ours = target.ips?.includes(address);
    const whose =
      ours === true
        ? 'which is ours but did not answer the challenge'
        : ours === false
          ? 'which is not ours'
          : 'which did not answer the challenge';
    return { type, detail: `the CA reached ${address}, ${whose}: ${pointAt}, then retry (the CA said: ${caSaid})` };
  }
  if (short === 'dns') return { type, detail: `the CA could not look up ${name} in DNS: ${pointAt}, then retry (the CA said: ${caSaid})` };
  if (short === 'caa') {
    return {
      type,
      detail: `a CAA record on ${name} or a parent forbids this CA: allow it in CAA or remove the record, then retry (the CA said: ${caSaid})`,
    };
  }
  if (short === 'rejectedIdentifier') return { type, detail: `the CA will not issue for ${name}: ${caSaid}` };
  return { type, detail: `the CA could not validate ${name}: ${caSaid}; check that ${pointAt.replace(/^point/, 'you point')}, then retry` };
}

/** A budget's key as an operator reads it: `{ca:le}:domain:example.com` → `le: domain:example.com`. */
export function budgetLabel(key: string): string {
  const at = key.indexOf(':bucket:');
  const bucket = at === -1 ? key : key.slice(at + ':bucket:'.length);
  const tagged = /^\{ca:([^}]+)\}:(.*)$/.exec(bucket);
  return tagged ? `${tagged[1]}: ${tagged[2]}` : bucket;
}
