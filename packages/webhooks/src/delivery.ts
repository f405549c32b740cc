import { EVENT_ID_HEADER, SIGNATURE_HEADER, signPayload } from './signature.js';

/** Bytes of a receiver's answer read at most (for the log line of a failure); the rest is never read. */
export const MAX_RESPONSE_BYTES = 4_096;

export interface DeliveryRequest {
  url: string;
  eventId: string;
  body: string;
  secret: string;
  timeoutMs: number;
  /** Unix seconds put in the signature. */
  nowSeconds: number;
}

/** How one attempt ended: delivered on a 2xx; anything else is retried. */
export type DeliveryOutcome = { delivered: true; status: number } | { delivered: false; status?: number; reason: string };

/**
 * POSTs one signed event. A redirect is not followed (a 3xx is a failure: the signature was made
 * for this URL's owner, and a receiver that moved should be reconfigured); the answer's body is
 * read only up to MAX_RESPONSE_BYTES; the whole attempt, body included, ends at `timeoutMs`.
 */
export async function deliverOnce(request: DeliveryRequest, fetchImpl: typeof fetch = fetch): Promise<DeliveryOutcome> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  const { target, authorization } = splitCredentials(request.url);
  let response: Response;
  try {
    response = await fetchImpl(target, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'certfleet-webhooks/1',
        [SIGNATURE_HEADER]: signPayload(request.secret, request.body, request.nowSeconds),
        [EVENT_ID_HEADER]: request.eventId,
        ...(authorization ? { authorization } : {}),
      },
      body: request.body,
    });
  } catch (error) {
    return { delivered: false, reason: failureOf(error, request.timeoutMs) };
  }
  if (response.status >= 200 && response.status < 300) {
    // Nothing in a 2xx body matters: drop it unread, freeing the connection.
    await response.body?.cancel().catch(() => undefined);
    return { delivered: true, status: response.status };
  }
  const excerpt = await readCapped(response, MAX_RESPONSE_BYTES).catch(() => '');
  const location = response.headers.get('location');
  const reason =
    response.status >= 300 && response.status < 400
      ? `answered ${response.status}, a redirect${location ? ' to another location' : ''}: not followed; point WEBHOOK_URLS at the final URL`
      : `answered ${response.status}${excerpt ? `: ${excerpt.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`;
  return { delivered: false, status: response.status, reason };
}

/**
 * fetch refuses a URL with credentials in it; a receiver behind basic auth is written
 * `https://user:password@host/path` in WEBHOOK_URLS, so they travel as an Authorization header.
 */
function splitCredentials(url: string): { target: string; authorization?: string } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { target: url };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { target: parsed.href, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** At most `max` bytes of the body as text; the stream is cancelled after them. */
async function readCapped(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

function failureOf(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message ?? 'request failed'} (${cause})` : (err.message ?? String(error));
}
