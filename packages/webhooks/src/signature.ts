import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header each delivery carries: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>` (Stripe's form). */
export const SIGNATURE_HEADER = 'Certfleet-Signature';
export const EVENT_ID_HEADER = 'Certfleet-Event-Id';

const hmac = (secret: string, timestamp: number, body: string | Uint8Array) =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();

/**
 * The `Certfleet-Signature` value for `body` sent at `timestamp` (unix seconds). Signed at each
 * attempt, so a receiver can refuse replays of an old delivery by its age alone.
 */
export function signPayload(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body).toString('hex')}`;
}

export type VerifyResult = { valid: true; timestamp: number } | { valid: false; reason: string };

/** Longest header accepted: a timestamp and a handful of signatures (a secret being rotated). */
const MAX_HEADER_LENGTH = 1_024;

/**
 * Checks a `Certfleet-Signature` header against the raw request body (the bytes as received:
 * a body parsed and serialised again is not the body that was signed). Valid when one of its
 * `v1` signatures is the HMAC of `t.body` under `secret` (compared in constant time) and `t`
 * is within `toleranceSeconds` of `nowSeconds`, either way (a replay is refused by its age).
 */
export function verifySignature(
  secret: string,
  header: string | null | undefined,
  rawBody: string | Uint8Array,
  toleranceSeconds: number,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): VerifyResult {
  if (!header) return { valid: false, reason: `no ${SIGNATURE_HEADER} header` };
  if (header.length > MAX_HEADER_LENGTH)
    return { valid: false, reason: `${SIGNATURE_HEADER} is longer than ${MAX_HEADER_LENGTH} characters` };
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    // Other schemes (a future v2) are ignored, as Stripe's verifiers do.
    if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined) return { valid: false, reason: `${SIGNATURE_HEADER} has no t=<unix seconds>` };
  if (signatures.length === 0) return { valid: false, reason: `${SIGNATURE_HEADER} has no v1=<64 hex digits>` };
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    return {
      valid: false,
      reason: `signed at ${timestamp}, more than ${toleranceSeconds} s from now (${nowSeconds}): a replay, or a clock off`,
    };
  }
  const expected = hmac(secret, timestamp, rawBody);
  // Every candidate is compared, whatever the first gives: the time taken says nothing.
  let matched = false;
  for (const signature of signatures) matched = timingSafeEqual(signature, expected) || matched;
  return matched ? { valid: true, timestamp } : { valid: false, reason: 'no v1 signature matches this body under this secret' };
}
