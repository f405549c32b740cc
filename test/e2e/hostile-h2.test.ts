import { constants, type ClientHttp2Session } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/certfleet.js';
import { connectH2, h2Get, h2Request } from '../support/h2-client.js';
import { edgeProbes } from '../support/edge-probes.js';
import { startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

/**
 * The edge's h2 side in front of hostile clients: stream resets as fast as streams open
 * (CVE-2023-44487), oversized header lists, targets h2 does not allow, names that disagree.
 * node:http2's client sends what is asked of it; nghttp2 on the edge's side must hold.
 */

/** Streams a rapid-reset client may open before the test calls it unbounded. */
const ATTACK_STREAMS = 10_000;
/** The resets the edge lets one session send at once (streamResetBurst in apps/edge/src/servers.ts). */
const RESET_BURST = 200;
/** ...and the resets it gives back each second (streamResetRate). */
const RESET_RATE = 33;
/**
 * Streams a session may open and reset within `ms` before the edge ends it: the burst, what the
 * rate gave back meanwhile (a slow, busy run allows more), and one batch of the attack (100
 * streams written together, which nghttp2 reads at once before its GOAWAY), plus a little slack.
 */
const resetAllowance = (ms: number) => RESET_BURST + Math.ceil((RESET_RATE * ms) / 1000) + 110;

describe('the edge in front of hostile h2 clients', () => {
  let stack: Stack;
  const { port, counted, served } = edgeProbes(() => stack);
  const upstreamUrls = (prefix: string) => stack.upstream.requests.map((r) => r.url).filter((url) => url.startsWith(prefix));

  beforeAll(async () => {
    stack = await startStack();
    expect((await cli(['domains', 'add', '*.hostile-h2.example'], stack.env)).code).toBe(0);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('advertises at most 100 concurrent streams and a 32 KiB header list', async () => {
    const name = 'settings.hostile-h2.example';
    await served(name);
    const { session } = await connectH2(port(), { servername: name });
    try {
      expect(session.remoteSettings).toMatchObject({ maxConcurrentStreams: 100, maxHeaderListSize: 32 * 1024 });
    } finally {
      session.close();
    }
  });

  it('resets a stream whose headers are too many or too large, or whose :path is not origin form, and serves the next one', async () => {
    const name = 'headers.hostile-h2.example';
    await served(name);
    const { session } = await connectH2(port(), { servername: name });
    try {
      const answered = (headers: Record<string, string>) =>
        h2Request(session, { ':authority': name, ...headers }).then(
          (reply) => `answered ${reply.status}`,
          () => undefined,
        );
      const big = session.request({ ':authority': name, ':path': '/too-big', 'x-big': 'a'.repeat(40_000) });
      const many = session.request({
        ':authority': name,
        ':path': '/too-many',
        ...Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, 'v'])),
      });
      const absolute = session.request({ ':authority': name, ':path': 'https://victim.example/steal' });
      const codes = await Promise.all(
        [big, many, absolute].map(
          (stream) =>
            new Promise<number>((resolve) => {
              stream.on('error', () => undefined);
              stream.resume();
              stream.once('close', () => resolve(stream.rstCode ?? -1));
            }),
        ),
      );
      expect(codes).toEqual([constants.NGHTTP2_ENHANCE_YOUR_CALM, constants.NGHTTP2_ENHANCE_YOUR_CALM, constants.NGHTTP2_PROTOCOL_ERROR]);
      expect(await answered({ ':path': '/after-the-resets' })).toBe('answered 200');
      expect(upstreamUrls('/too-')).toEqual([]);
      expect(stack.upstream.requests.some((r) => r.url.includes('victim'))).toBe(false);
    } finally {
      session.close();
    }
  });

  it('answers 400 to a stream whose :authority and Host name different sites, forwarding neither', async () => {
    const name = 'authority.hostile-h2.example';
    await served(name);
    const { session } = await connectH2(port(), { servername: name });
    try {
      const reply = await h2Request(session, { ':authority': name, ':path': '/two-names', host: 'victim.example' });
      expect(reply.status).toBe(400);
      // The same port or case is the same site.
      expect((await h2Request(session, { ':authority': `${name}:443`, ':path': '/same-site', host: name.toUpperCase() })).status).toBe(200);
      expect(upstreamUrls('/two-names')).toEqual([]);
      expect(stack.upstream.requests.find((r) => r.url === '/same-site')?.headers.host).toBe(`${name}:443`);
    } finally {
      session.close();
    }
  });

  it('closes a session that resets streams as fast as it opens them (rapid reset) once its reset allowance is spent, keeps serving others, and forwards at most that allowance', async () => {
    const name = 'rapid.hostile-h2.example';
    await served(name);
    const handledBefore = await counted('certfleet_edge_requests_total', { protocol: 'h2' });
    const { session } = await connectH2(port(), { servername: name });
    const started = Date.now();
    let opened = 0;
    let goaway: { code: number; lastStreamId: number; opened: number; ms: number } | undefined;
    session.on('goaway', (code: number, lastStreamId: number) => (goaway ??= { code, lastStreamId, opened, ms: Date.now() - started }));
    const closed = new Promise<number>((resolve) => session.once('close', () => resolve(Date.now() - started)));
    let error: string | undefined;
    session.on('error', (e: NodeJS.ErrnoException) => (error ??= `${e.code ?? ''} ${e.message}`));
    await openAndReset(
      session,
      name,
      () => (opened += 1),
      () => goaway === undefined,
    );
    const closedAfterMs = await closed;

    // Another client is served meanwhile and after.
    const other = await h2Get(port(), name, name, '/other-client', { localAddress: '127.0.0.2' });
    expect(other.status).toBe(200);
    await until(
      'the session error is counted',
      async () => (await counted('certfleet_edge_connections_closed_total', { reason: 'http2_error' })) >= 1,
      5_000,
    );
    const handled = (await counted('certfleet_edge_requests_total', { protocol: 'h2' })) - handledBefore - 1;
    const reached = upstreamUrls('/rapid-').length;
    console.info(
      JSON.stringify({ rapidReset: { opened, goaway, error, closedAfterMs, handledByTheProxy: handled, reachedTheUpstream: reached } }),
    );

    // The edge ended the session once the reset allowance (200, then 33 a second) was spent:
    // nghttp2 sends GOAWAY (INTERNAL_ERROR) and the edge closes the connection. The client may
    // not read the GOAWAY: closing a socket with unread input sends a TCP reset, which can
    // overtake it. Either way the session is over long before the attack's end.
    expect(opened).toBeLessThan(ATTACK_STREAMS);
    if (goaway) {
      expect(goaway.code).toBe(constants.NGHTTP2_INTERNAL_ERROR);
      // Stream ids are odd: 401 is the 201st stream.
      expect(goaway.lastStreamId).toBeLessThan(2 * resetAllowance(goaway.ms));
    }
    // A stream reset in the packet that opened it is never routed, so never forwarded; one whose
    // reset came in a later packet may be (node:http2's client sends some that way). Either way
    // the reset allowance bounds what one connection can make the edge do, not the attack's size.
    expect(handled).toBeLessThanOrEqual(resetAllowance(closedAfterMs));
    expect(reached).toBeLessThanOrEqual(handled);
  });
});

/**
 * A rapid-reset client (CVE-2023-44487): HEADERS then RST_STREAM(CANCEL) for each stream,
 * written together, in batches of 100, until `goOn` says stop, the session ends, or
 * ATTACK_STREAMS streams were opened.
 */
async function openAndReset(session: ClientHttp2Session, name: string, onOpened: () => void, goOn: () => boolean): Promise<void> {
  let count = 0;
  while (count < ATTACK_STREAMS && goOn() && !session.closed && !session.destroyed) {
    for (let i = 0; i < 100; i += 1) {
      try {
        const stream = session.request({ ':authority': name, ':path': `/rapid-${count}` });
        stream.on('error', () => undefined);
        stream.close(constants.NGHTTP2_CANCEL);
      } catch {
        return; // the session is going away
      }
      count += 1;
      onOpened();
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}
