/**
 * What the edge refuses to forward, decided from the request line and the raw headers before
 * anything goes upstream. Request smuggling lives in the gap between how two parsers frame one
 * message; the edge closes that gap by forwarding only requests it can frame one way, and by
 * framing the forwarded body itself (Content-Length when known, else chunked: see forward.ts).
 *
 * Node's parser already refuses Content-Length together with Transfer-Encoding, duplicate
 * Content-Length, a non-final `chunked`, repeated Transfer-Encoding and obs-fold (each checked
 * by the hostile e2e suite); it lets through a Transfer-Encoding other than exactly `chunked`
 * (`gzip`, `gzip, chunked`), which an upstream may frame differently. The framing checks repeat
 * Node's on purpose, so that a change of parser (a Node upgrade, `insecureHTTPParser`) cannot
 * quietly open the gap again. Obs-fold is Node's alone: a header value a parser hands over can
 * hold no line break, so checking every value on every request would cost without guarding.
 */

/** The framing problem of a request's raw headers, if any, in words for the log. */
export function framingProblem(rawHeaders: readonly string[]): string | undefined {
  let contentLengths = 0;
  let transferEncodings = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (name === 'content-length') {
      contentLengths += 1;
      if (!/^\d{1,15}$/.test(value.trim())) return 'Content-Length is not a number';
    } else if (name === 'transfer-encoding') {
      transferEncodings += 1;
      if (value.trim().toLowerCase() !== 'chunked') return `Transfer-Encoding "${value.slice(0, 40)}" is not "chunked"`;
    }
  }
  if (contentLengths > 1) return 'more than one Content-Length';
  if (transferEncodings > 1) return 'more than one Transfer-Encoding';
  if (contentLengths > 0 && transferEncodings > 0) return 'both Content-Length and Transfer-Encoding';
  return undefined;
}

/**
 * The request target to send upstream, in origin form, or undefined when it must be refused.
 * Origin form (`/path?query`) passes as it is, and `*` for OPTIONS. An absolute-form target
 * (`https://name/path`) is accepted only when its authority is the connection's own name (the
 * upstream would otherwise route by the target's authority, RFC 9112 3.2.2, to a site the
 * visitor's connection was never checked for); it is rewritten to origin form. Anything else
 * (authority form, another name, a malformed URL) is refused.
 */
export function originFormTarget(method: string | undefined, target: string | undefined, connectionName: string): string | undefined {
  if (target === undefined || target === '') return undefined;
  if (target.charCodeAt(0) === 47 /* / */) return target;
  if (target === '*') return method === 'OPTIONS' ? '*' : undefined;
  if (!/^https?:\/\//i.test(target)) return undefined;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host !== connectionName) return undefined;
  return `${url.pathname}${url.search}`;
}

/** Whether an Upgrade request may be forwarded: only a websocket handshake, without a body. */
export function upgradeAllowed(upgrade: string | undefined, headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  if (upgrade === undefined || upgrade.trim().toLowerCase() !== 'websocket') return false;
  if (headers['transfer-encoding'] !== undefined) return false;
  return headers['content-length'] === undefined || headers['content-length'] === '0';
}
