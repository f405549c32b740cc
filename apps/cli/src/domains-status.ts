import type { HostnameObject } from '@certfleet/hostnames';
import type { CertificateDetails, NameState } from '@certfleet/store';
import { formatTime } from './admin.js';
import { summariseError } from './error-summary.js';

/** What `domains status` shows about one name. */
export interface StatusView {
  name: string;
  state: NameState | null;
  cert: CertificateDetails | null;
  renewAt: number | null;
  allowedBy: string | null;
  /** The hostname object the API serves for the name (null: certfleet knows nothing of it). */
  hostname: HostnameObject | null;
}

const PROBLEM_PREFIX = 'urn:ietf:params:acme:error:';
const at = (iso: string | null | undefined) => (iso ? iso.replace('.000Z', 'Z') : '-');

/** The one-line state: a budget hold says which budget and until when (issue 13: it said "never issued"). */
function stateLabel(view: StatusView, now: number): string {
  const { state, name } = view;
  const hold = view.hostname?.hold;
  if (hold && state?.state !== 'failed') return `held: the CA budget ${hold.budget} is spent; the order waits until ${at(hold.until)}`;
  if (!state) return view.cert ? 'active' : 'never issued';
  if (state.state === 'cooling' && (state.coolUntil ?? 0) <= now) return 'cool-down over (next handshake may order)';
  if (state.state === 'cooling') return `cooling down until ${formatTime(state.coolUntil ?? 0)}`;
  if (state.state === 'failed') return `failed permanently (run 'certfleet domains retry ${name}' once fixed)`;
  return state.state;
}

/** The table `domains status` prints: two columns, label and value. */
export function statusRows(view: StatusView, now: number): string[][] {
  const { state, cert, hostname } = view;
  const errors = (hostname?.validation_errors ?? []).map((error, i) => [
    i === 0 ? 'validation errors' : '',
    `${at(error.at)}  ${error.type.replace(PROBLEM_PREFIX, '')}: ${error.detail}`,
  ]);
  return [
    ['name', view.name],
    ['state', stateLabel(view, now)],
    ['hostname', hostname ? `${hostname.status} (certificate ${hostname.certificate.status})` : 'not registered'],
    ['attempts', String(state?.attempts ?? 0)],
    ['failures in a row', String(state?.failures ?? 0)],
    ['last error', state?.lastError ? `${summariseError(state.lastError)} (${formatTime(state.lastErrorAt ?? 0)})` : '-'],
    ...errors,
    ['held by', hostname?.hold ? `CA budget ${hostname.hold.budget} until ${at(hostname.hold.until)}` : '-'],
    ['CA', state?.ca ?? '-'],
    ['allowlist entry', view.allowedBy ?? '-'],
    [
      'certificate',
      cert
        ? `serial ${cert.serial}, not after ${formatTime(cert.notAfter)}, ${cert.issuer}${cert.rsa ? ` (+ RSA serial ${cert.rsa.serial})` : ''}`
        : '-',
    ],
    ['renew at', view.renewAt === null ? '-' : formatTime(view.renewAt)],
    ...(hostname?.upstream ? [['upstream', hostname.upstream]] : []),
  ];
}

/** `domains status --json`: the fields it always had (state, coolUntil, lastError, ca, …) and the hostname object. */
export function statusJson(view: StatusView, now: number): Record<string, unknown> {
  const { chainPem: _chain, rsa, ...cert } = view.cert ?? ({} as Record<string, never>);
  return {
    name: view.name,
    status: stateLabel(view, now),
    ...(view.state ?? {}),
    allowlistEntry: view.allowedBy,
    certificate: view.cert ? { ...cert, rsaSerial: rsa?.serial } : null,
    renewAt: view.renewAt,
    hostname: view.hostname,
  };
}
