import { createHash, timingSafeEqual } from 'node:crypto';

/** What a request's bearer token may do with the API, or why it may do nothing. */
export type ApiCaller = { access: 'write' | 'read'; tokenId: string } | { refused: 'unconfigured' | 'absent' | 'wrong' };

const digest = (value: string) => createHash('sha256').update(value).digest();

/** A token's id for logs, the audit stream and rate limits: the first 8 hex digits of its SHA-256, never the token. */
export function tokenId(token: string): string {
  return digest(token).toString('hex').slice(0, 8);
}

/**
 * Reads `Authorization: Bearer TOKEN` against API_TOKEN (read-write) and API_READ_TOKEN
 * (read-only). Both are always compared, as SHA-256 digests with timingSafeEqual, so the time
 * taken says nothing about either token. Without API_TOKEN the API is not configured: every
 * caller is refused with `unconfigured`.
 */
export function createApiAuth(tokens: {
  token: string | undefined;
  readToken: string | undefined;
}): (header: string | undefined) => ApiCaller {
  const write = tokens.token === undefined ? undefined : { digest: digest(tokens.token), id: tokenId(tokens.token) };
  const read = tokens.readToken === undefined ? undefined : { digest: digest(tokens.readToken), id: tokenId(tokens.readToken) };
  return (header) => {
    if (!write) return { refused: 'unconfigured' };
    if (!header) return { refused: 'absent' };
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) return { refused: 'wrong' };
    const presented = digest(match[1]);
    const isWrite = timingSafeEqual(presented, write.digest);
    const isRead = read ? timingSafeEqual(presented, read.digest) : false;
    if (isWrite) return { access: 'write', tokenId: write.id };
    if (isRead && read) return { access: 'read', tokenId: read.id };
    return { refused: 'wrong' };
  };
}
