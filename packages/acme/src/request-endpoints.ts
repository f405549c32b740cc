/**
 * Names ACME requests by endpoint for metrics, as cert-manager's
 * `certmanager_http_acme_client_request_count{path}` does: a path template, never a URL with an
 * order's, authorization's or account's id in it (one series per order would grow without end).
 *
 * The directory's own resources (RFC 8555 7.1.1) get the RFC's names whatever the CA calls them:
 * Pebble's `/order-plz` and Let's Encrypt's `/acme/new-order` are both `/acme/new-order`. Other
 * URLs (orders, authorizations, challenges, finalize, certificates, accounts) are the CA's own:
 * their path is kept up to its first segment that looks like an id, which becomes `:id`.
 */

/** RFC 8555 directory fields, and the endpoint each is counted as. */
const DIRECTORY_RESOURCES: Record<string, string> = {
  newNonce: '/acme/new-nonce',
  newAccount: '/acme/new-account',
  newOrder: '/acme/new-order',
  newAuthz: '/acme/new-authz',
  revokeCert: '/acme/revoke-cert',
  keyChange: '/acme/key-change',
};
/** RFC 9773: renewalInfo URLs are the directory's URL plus `/<certificate id>`. */
const RENEWAL_INFO = '/acme/renewal-info';

/** Past this many distinct endpoints, new ones are counted as `other`: a bound on series whatever a CA's URLs look like. */
export const MAX_ENDPOINTS = 64;
/** A directory document is small (Let's Encrypt's is under 1 kB); a larger body is not parsed. */
const MAX_DIRECTORY_BYTES = 64 * 1024;
/** A path segment kept as it is: a word such as `acme`, `order`, `finalize-order`, `chall-v3`, `draft-ietf-acme-ari-03`. */
const WORD_SEGMENT = /^[A-Za-z][A-Za-z-]{0,39}\d{0,3}$/;
/** Segments kept at most: ids come after them on every CA we know. */
const MAX_WORD_SEGMENTS = 3;

export interface EndpointNamer {
  /** Learns a directory's resource URLs from a response body, when the body is a directory. */
  learn(url: string, body: unknown): void;
  /** The endpoint template of a request URL: `/directory`, `/acme/new-order`, `/my-order/:id`, `other`. */
  endpointOf(url: string): string;
}

export function createEndpointNamer(): EndpointNamer {
  const known = new Map<string, string>();
  let renewalInfoUrl: string | undefined;
  const seen = new Set<string>();
  const bounded = (endpoint: string) => {
    if (seen.has(endpoint)) return endpoint;
    if (seen.size >= MAX_ENDPOINTS) return 'other';
    seen.add(endpoint);
    return endpoint;
  };
  return {
    learn(url, body) {
      const directory = directoryOf(body);
      if (!directory) return;
      known.set(withoutQuery(url), '/directory');
      for (const [field, endpoint] of Object.entries(DIRECTORY_RESOURCES)) {
        const resource = directory[field];
        if (typeof resource === 'string') known.set(withoutQuery(resource), endpoint);
      }
      if (typeof directory.renewalInfo === 'string') renewalInfoUrl = withoutQuery(directory.renewalInfo).replace(/\/$/, '');
    },
    endpointOf(url) {
      const plain = withoutQuery(url);
      const resource = known.get(plain);
      if (resource) return bounded(resource);
      if (renewalInfoUrl && (plain === renewalInfoUrl || plain.startsWith(`${renewalInfoUrl}/`))) return bounded(RENEWAL_INFO);
      return bounded(pathTemplate(plain));
    },
  };
}

/** The path of `url` up to its first id-like segment, which becomes `:id`; `other` for what is not a URL. */
export function pathTemplate(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return 'other';
  }
  const kept: string[] = [];
  for (const segment of path.split('/').filter(Boolean)) {
    if (kept.length >= MAX_WORD_SEGMENTS || !WORD_SEGMENT.test(segment)) {
      kept.push(':id');
      break;
    }
    kept.push(segment);
  }
  return `/${kept.join('/')}`;
}

/** The body as a directory (an object with `newNonce` and `newOrder` URLs), else undefined. */
function directoryOf(body: unknown): Record<string, unknown> | undefined {
  let value = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString();
    if (text.length > MAX_DIRECTORY_BYTES || !text.includes('"newOrder"')) return undefined;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  return typeof fields.newNonce === 'string' && typeof fields.newOrder === 'string' ? fields : undefined;
}

function withoutQuery(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
