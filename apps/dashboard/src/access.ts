import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * What a request's credentials prove: `admin` (DASHBOARD_ADMIN_TOKEN: may also change queues),
 * `viewer` (DASHBOARD_TOKEN: may only look), `wrong` (a token that is neither: counts as a failed
 * login) or `absent` (no credentials: a browser's first request, before it asks for a password).
 */
export type Credentials = 'admin' | 'viewer' | 'wrong' | 'absent';

/**
 * Reads `Authorization: Bearer TOKEN` or `Basic base64(anyuser:TOKEN)` (so a browser can log in
 * with the token as its password). Tokens are compared as SHA-256 digests with timingSafeEqual:
 * equal lengths, so the time taken says nothing about the token.
 */
export function createTokenCheck(tokens: { viewer: string; admin: string | undefined }): (header: string | undefined) => Credentials {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const viewer = digest(tokens.viewer);
  const admin = tokens.admin === undefined ? undefined : digest(tokens.admin);
  return (header) => {
    if (!header) return 'absent';
    const [scheme = '', value = ''] = header.split(' ', 2);
    let given: string | undefined;
    if (scheme.toLowerCase() === 'bearer') given = value;
    if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      given = decoded.slice(decoded.indexOf(':') + 1);
    }
    if (given === undefined) return 'wrong';
    const presented = digest(given);
    if (admin && timingSafeEqual(presented, admin)) return 'admin';
    return timingSafeEqual(presented, viewer) ? 'viewer' : 'wrong';
  };
}

/** Methods that change nothing: the only ones a viewer may use, and the only ones sent cross-site without a check. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/**
 * Whether a request came from a page of another site: its `Origin` is present and names another
 * host:port than its `Host`. Browsers send `Origin` with every request that may change something
 * (any method but GET and HEAD, same-site or not), so a page elsewhere that makes a logged-in
 * browser send basic-auth credentials here is refused, while curl and scripts (no `Origin`)
 * are not. `Origin: null` (a sandboxed frame, a file) cannot be matched and counts as another
 * site. Without a port, `Host` means the default port of the scheme the Origin shows.
 */
export function isCrossOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return false;
  if (host === undefined) return true;
  let from: URL;
  try {
    from = new URL(origin);
  } catch {
    return true;
  }
  const to = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  if (!to) return true;
  const fromPort = from.port || (from.protocol === 'https:' ? '443' : from.protocol === 'http:' ? '80' : '');
  const toPort = to[2] ?? fromPort;
  return from.hostname.toLowerCase() !== to[1]?.toLowerCase() || fromPort !== toPort;
}

/**
 * Sent on every response: no page of the dashboard may be framed by another site (clickjacking
 * the admin's buttons), and no response is sniffed into another type than it says.
 */
export const SECURITY_HEADERS = {
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
} as const;
