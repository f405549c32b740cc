import type { CertificateFacts, HostnameFacts, NameState, Store } from '@certfleet/store';
import type { CertificateStatus, HostnameObject, HostnameStatus, ValidationError } from './schema.js';

/** The parts of the store a hostname object is read from (all without a keyring), and that list pages. */
export interface DescribeStore {
  hostnames: Pick<Store['hostnames'], 'get' | 'page' | 'expiring' | 'registered' | 'facts'>;
}

/** The type of the validation error that stands for a budget hold. */
export const BUDGET_PROBLEM_TYPE = 'certfleet:budget';

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

/**
 * The hostname object for `name` from what the store holds: its registration, the allowlist,
 * its name-state, its certificate and renewal, its failed validations and budget hold. Null when
 * certfleet knows nothing of the name (not registered, not allowed, no certificate, no state).
 */
export async function describeHostname(store: DescribeStore, name: string, now: number = Date.now()): Promise<HostnameObject | null> {
  const [facts] = await store.hostnames.facts([name], now);
  return facts ? describeFrom(facts, now) : null;
}

/**
 * The object of a name with nothing stored about it: no certificate, no errors, no record. Used
 * where every answer must have one shape (a purged name's last webhook event).
 */
export function bareHostnameObject(hostname: string, status: HostnameStatus): HostnameObject {
  return {
    hostname,
    status,
    certificate: {
      status: 'none',
      serial: null,
      not_before: null,
      not_after: null,
      issuer: null,
      key_types: [],
      renewal_at: null,
      last_renewed_at: null,
    },
    validation_errors: [],
    hold: null,
    cooldown_until: null,
    custom_metadata: null,
    upstream: null,
    created_at: null,
    updated_at: null,
  };
}

/** Pure: the hostname object from the facts (see {@link hostnameStatus} and {@link certificateStatus}). */
export function describeFrom(facts: HostnameFacts, now: number): HostnameObject | null {
  const { record, state, certificate: cert } = facts;
  if (!record && !facts.allowedBy && !cert && !state) return null;
  const errors: ValidationError[] = facts.validationErrors.map((error) => ({
    at: iso(error.at) ?? '',
    type: error.type,
    detail: error.detail,
  }));
  const hold = facts.hold ? { budget: facts.hold.budget, until: iso(facts.hold.until) ?? '' } : null;
  if (facts.hold) {
    errors.unshift({
      at: iso(facts.hold.at) ?? '',
      type: BUDGET_PROBLEM_TYPE,
      detail: `the CA budget ${facts.hold.budget} is spent; the order waits until ${iso(facts.hold.until)} (nothing to do: it resumes by itself)`,
    });
  }
  return {
    hostname: facts.name,
    status: hostnameStatus(facts, now),
    certificate: {
      status: certificateStatus(cert, state, now),
      serial: cert?.serial ?? null,
      not_before: iso(cert?.notBefore),
      not_after: iso(cert?.notAfter),
      issuer: cert?.issuer || null,
      key_types: cert ? (cert.rsaSerial ? ['ecdsa', 'rsa'] : ['ecdsa']) : [],
      renewal_at: cert && !cert.retiredAt ? iso(facts.renewAt ?? cert.renewAt) : null,
      last_renewed_at: iso(cert?.issuedAt),
    },
    validation_errors: errors,
    hold,
    cooldown_until: state?.state === 'cooling' && (state.coolUntil ?? 0) > now ? iso(state.coolUntil) : null,
    custom_metadata: record?.customMetadata ?? null,
    upstream: record?.upstream ?? facts.route ?? null,
    created_at: iso(record?.createdAt),
    updated_at: iso(record?.updatedAt ?? state?.updatedAt),
  };
}

/**
 * - retired: deleted through the API/CLI, or (unregistered) its certificate was retired;
 * - active: a certificate that has not expired is served;
 * - failed: its last validation failed (cooling down) or the CA refused it for good;
 * - pending: anything else (never ordered, ordering, held by a budget, expired and not renewed yet).
 */
export function hostnameStatus(facts: Pick<HostnameFacts, 'record' | 'certificate' | 'state'>, now: number): HostnameStatus {
  const { record, certificate: cert, state } = facts;
  if (record?.deletedAt) return 'retired';
  if (!record && cert?.retiredAt) return 'retired';
  if (cert && !cert.retiredAt && cert.notAfter > now) return 'active';
  if (state?.state === 'failed' || state?.state === 'cooling') return 'failed';
  return 'pending';
}

export function certificateStatus(cert: CertificateFacts | null, state: NameState | null, now: number): CertificateStatus {
  if (!cert) return state?.state === 'issuing' ? 'issuing' : 'none';
  if (cert.notAfter <= now) return 'expired';
  return state?.state === 'issuing' ? 'renewing' : 'active';
}
