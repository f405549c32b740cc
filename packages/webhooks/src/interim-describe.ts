import type { CertificateStore, NameStateStore } from '@certfleet/store';
import type { DescribeHostname } from './contract.js';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * A stand-in for `describeHostname` of `@certfleet/hostnames` until that package is merged: the
 * certificate and the last error, in the hostname object's field names.
 */
export function describeFromStore(store: {
  certificates: Pick<CertificateStore, 'describe'>;
  nameStates: Pick<NameStateStore, 'get'>;
}): DescribeHostname {
  return async (hostname) => {
    const [cert, state] = await Promise.all([store.certificates.describe(hostname), store.nameStates.get(hostname)]);
    return {
      hostname,
      status: cert?.retiredAt
        ? 'retired'
        : cert
          ? 'active'
          : state?.state === 'failed' || state?.state === 'cooling'
            ? 'failed'
            : 'pending',
      certificate: {
        status: cert ? 'active' : 'none',
        serial: cert?.serial ?? null,
        not_before: iso(cert?.notBefore),
        not_after: iso(cert?.notAfter),
        issuer: cert?.issuer ?? null,
      },
      validation_errors:
        state?.lastError && state.state !== 'active'
          ? [{ at: iso(state.lastErrorAt), type: 'urn:ietf:params:acme:error', detail: state.lastError }]
          : [],
      cooldown_until: iso(state?.coolUntil),
    };
  };
}
