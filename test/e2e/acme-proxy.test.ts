import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import {
  AcmeAccount,
  AcmeProblemError,
  classifyAcmeFailure,
  configureAcmeHttp,
  createAccountKey,
  type ChallengeResponder,
} from '@certfleet/acme';
import { startAcmeProxy, type AcmeKind, type AcmeProxy } from '../support/acme-proxy.js';
import { startPebble, type Pebble } from '../support/pebble.js';
import { normalSerial } from '../support/tls-client.js';

const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';

describe('a fault-injecting proxy between an ACME client and Pebble', () => {
  let challenges: ChallengeServer;
  let pebble: Pebble;
  let proxy: AcmeProxy;
  let account: AcmeAccount;

  beforeAll(async () => {
    challenges = await startChallengeServer();
    pebble = await startPebble({ httpPort: challenges.port, name: 'pebble-acme-proxy' });
    proxy = await startAcmeProxy(pebble);
    configureAcmeHttp({ caBundlePems: [pebble.listenerCertPem] });
    account = await AcmeAccount.open({ directoryUrl: proxy.directoryUrl, accountKeyPem: await createAccountKey() });
  });
  afterEach(() => proxy?.clearRules());
  afterAll(async () => {
    await proxy?.stop();
    await pebble?.stop();
    await challenges?.close();
  });

  const get = (url: string) => call(url, pebble.listenerCertPem);

  it('issues a certificate through the proxy, with every URL Pebble hands out pointing at the proxy', async () => {
    const origin = new URL(proxy.directoryUrl).origin;
    const directory = JSON.parse((await get(proxy.directoryUrl)).body) as Record<string, unknown>;
    const urls = Object.values(directory).filter((v): v is string => typeof v === 'string');
    expect(urls.length).toBeGreaterThanOrEqual(5);
    expect(urls.every((u) => u.startsWith(`${origin}/`))).toBe(true);

    const issued = await account.issue(['through.example.com'], challenges.responder);
    expect(issued.names).toEqual(['through.example.com']);
    expect(pebble.issuedSerials().map(normalSerial)).toContain(normalSerial(issued.serial));
    expect(account.accountUrl.startsWith(`${origin}/`)).toBe(true);

    const records = proxy.records();
    const kinds = records.map((r) => r.kind);
    const first = (kind: AcmeKind) => kinds.indexOf(kind);
    for (const kind of ['directory', 'nonce', 'newAccount', 'newOrder', 'authz', 'challenge', 'finalize', 'cert'] as const) {
      expect(kinds, kind).toContain(kind);
    }
    expect(kinds).not.toContain('other');
    expect(first('directory')).toBeLessThan(first('newAccount'));
    expect(first('newAccount')).toBeLessThan(first('newOrder'));
    expect(first('newOrder')).toBeLessThan(first('finalize'));
    expect(first('finalize')).toBeLessThan(first('cert'));
    expect(records.every((r) => r.forwarded && r.status >= 200 && r.status < 300)).toBe(true);
    expect(proxy.newOrders()).toHaveLength(1);
  });

  it('answers newOrder with a 429 the client reads as a rate limit, and Pebble never sees that order', async () => {
    const ordersBefore = pebble.orderCount();
    const forwardedBefore = proxy.newOrders().length;
    proxy.addRule({
      kind: 'newOrder',
      times: 1,
      respond: { status: 429, retryAfter: '20', problemType: RATE_LIMITED, detail: 'too many new orders recently' },
    });

    const error = await account.issue(['limited.example.com'], challenges.responder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeProblemError);
    const problem = error as AcmeProblemError;
    expect(problem.status).toBe(429);
    expect(problem.type).toBe(RATE_LIMITED);
    expect(problem.isRateLimited).toBe(true);
    expect(problem.retryAfterMs).toBe(20_000);
    expect(problem.detail).toBe('too many new orders recently');
    expect(pebble.orderCount()).toBe(ordersBefore);
    expect(proxy.newOrders()).toHaveLength(forwardedBefore);
    expect(
      proxy
        .records()
        .filter((r) => r.kind === 'newOrder')
        .at(-1),
    ).toMatchObject({ status: 429, forwarded: false });

    // The rule was for one request: the next order goes through.
    const issued = await account.issue(['limited.example.com'], challenges.responder);
    expect(issued.names).toEqual(['limited.example.com']);
    expect(pebble.orderCount()).toBe(ordersBefore + 1);
    expect(proxy.newOrders()).toHaveLength(forwardedBefore + 1);
  });

  it('puts a nonce Pebble accepts into an injected answer', async () => {
    proxy.addRule({ kind: 'newOrder', times: 1, respond: { status: 429, retryAfter: '5' } });
    const directory = JSON.parse((await get(proxy.directoryUrl)).body) as { newOrder: string; newAccount: string };
    const injected = await call(directory.newOrder, pebble.listenerCertPem, { method: 'POST', body: '{}' });
    expect(injected.status).toBe(429);
    expect(injected.headers['content-type']).toBe('application/problem+json');
    expect(injected.headers['retry-after']).toBe('5');
    expect(JSON.parse(injected.body)).toEqual({ type: RATE_LIMITED, detail: expect.any(String), status: 429 });
    const nonce = injected.headers['replay-nonce'];
    expect(typeof nonce).toBe('string');

    // A signed lookup of an unknown key: Pebble checks the nonce first, then finds no account.
    const lookup = () =>
      call(directory.newAccount, pebble.listenerCertPem, {
        method: 'POST',
        body: signedJws(directory.newAccount, String(nonce), { onlyReturnExisting: true }),
      });
    const first = await lookup();
    expect(JSON.parse(first.body)).toMatchObject({ type: 'urn:ietf:params:acme:error:accountDoesNotExist' });
    const replayed = await lookup();
    expect(JSON.parse(replayed.body)).toMatchObject({ type: 'urn:ietf:params:acme:error:badNonce' });
  });

  it('answers 503 with a Retry-After date, and Pebble never sees that order', async () => {
    const ordersBefore = pebble.orderCount();
    const retryAt = new Date(Date.now() + 120_000).toUTCString();
    proxy.addRule({ kind: 'newOrder', times: 1, respond: { status: 503, retryAfter: retryAt } });

    const error = await account.issue(['busy.example.com'], challenges.responder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeProblemError);
    const problem = error as AcmeProblemError;
    expect(problem.status).toBe(503);
    expect(problem.type).toBe('urn:ietf:params:acme:error:serverInternal');
    expect(problem.isRateLimited).toBe(false);
    // An HTTP date has whole seconds: up to one second less than asked.
    expect(problem.retryAfterMs).toBeGreaterThan(60_000);
    expect(problem.retryAfterMs).toBeLessThanOrEqual(120_000);
    expect(pebble.orderCount()).toBe(ordersBefore);
  });

  it('resets the connection: the client gets a network error, and Pebble never sees that order', async () => {
    proxy.addRule({ kind: 'directory', times: 1, reset: true });
    const raw = await get(proxy.directoryUrl).catch((e: unknown) => e);
    expect(raw).toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });

    const ordersBefore = pebble.orderCount();
    proxy.addRule({ kind: 'newOrder', times: 1, reset: true });
    const error = await account.issue(['reset.example.com'], challenges.responder).catch((e: unknown) => e);
    // The network error itself, classified as the CA being unavailable (not a TypeError from
    // acme-client's interceptor: configureAcmeHttp strips the request from such errors).
    expect(error).toMatchObject({ code: 'ECONNRESET' });
    expect(classifyAcmeFailure(error).kind).toBe('unavailable');
    expect(
      proxy
        .records()
        .filter((r) => r.kind === 'newOrder')
        .at(-1),
    ).toMatchObject({ status: 0, forwarded: false });
    expect(pebble.orderCount()).toBe(ordersBefore);

    // The client recovers on a new connection.
    expect((await account.issue(['reset.example.com'], challenges.responder)).names).toEqual(['reset.example.com']);
    expect(pebble.orderCount()).toBe(ordersBefore + 1);
  });

  it('holds a delayed request while a later one is answered, then forwards it', async () => {
    const ordersBefore = pebble.orderCount();
    const events: string[] = [];
    let later: Promise<void> | undefined;
    proxy.addRule({
      kind: 'newOrder',
      times: 1,
      delayMs: 1_000,
      hook: () => {
        events.push('newOrder arrived');
        later = get(proxy.directoryUrl).then((r) => {
          events.push(`directory answered ${r.status}; orders Pebble added meanwhile: ${pebble.orderCount() - ordersBefore}`);
        });
      },
    });

    await account.issue(['slow.example.com'], challenges.responder);
    events.push('issued');
    await later;
    expect(events).toEqual(['newOrder arrived', 'directory answered 200; orders Pebble added meanwhile: 0', 'issued']);
    const newOrder = proxy.newOrders().at(-1);
    const directory = proxy
      .records()
      .filter((r) => r.kind === 'directory')
      .at(-1);
    expect(newOrder).toMatchObject({ status: 201, forwarded: true });
    expect(directory?.at).toBeGreaterThanOrEqual(newOrder?.at ?? Infinity);
    expect(pebble.orderCount()).toBe(ordersBefore + 1);
  });

  it('runs a hook before the request reaches Pebble', async () => {
    const serialsBefore = pebble.issuedSerials().length;
    const atHook: number[] = [];
    proxy.addRule({ kind: 'finalize', times: 1, hook: () => void atHook.push(pebble.issuedSerials().length) });
    await account.issue(['hooked.example.com'], challenges.responder);
    expect(atHook).toEqual([serialsBefore]);
    expect(pebble.issuedSerials()).toHaveLength(serialsBefore + 1);
  });

  it('applies the first matching rule, expires rules after `times`, matches paths and removes rules', async () => {
    proxy.addRule({ kind: 'directory', path: /\?only-this$/, respond: { status: 500 } });
    proxy.addRule({ kind: 'directory', times: 1, respond: { status: 503 } });
    proxy.addRule({ kind: 'directory', times: 2, respond: { status: 429 } });
    const remove = proxy.addRule({ kind: 'directory', respond: { status: 502 } });
    const statuses = async (count: number, url = proxy.directoryUrl) => {
      const result: number[] = [];
      for (let i = 0; i < count; i += 1) result.push((await get(url)).status);
      return result;
    };
    expect(await statuses(5)).toEqual([503, 429, 429, 502, 502]);
    expect(await statuses(1, `${proxy.directoryUrl}?only-this`)).toEqual([500]);
    remove();
    expect(await statuses(1)).toEqual([200]);
    expect((await get(`${proxy.directoryUrl}?only-this`)).status).toBe(500);
    proxy.clearRules();
    expect(await statuses(1, `${proxy.directoryUrl}?only-this`)).toEqual([200]);
  });
});

interface ChallengeServer {
  port: number;
  responder: ChallengeResponder;
  close(): Promise<void>;
}

/** Answers Pebble's http-01 validations with the key authorizations the client presents. */
async function startChallengeServer(): Promise<ChallengeServer> {
  const answers = new Map<string, string>();
  const server = createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(req.url ?? '')?.[1];
    const answer = token === undefined ? undefined : answers.get(token);
    res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'no such token\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    responder: {
      type: 'http-01',
      present: async ({ token, keyAuthorization }) => void answers.set(token, keyAuthorization),
      remove: async ({ token }) => void answers.delete(token),
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One HTTPS request on a fresh connection, trusting `ca`; a POST body is sent as a JWS. */
function call(
  url: string,
  ca: string,
  options: { method?: string; body?: string } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = options.body
      ? { 'content-type': 'application/jose+json', 'content-length': Buffer.byteLength(options.body) }
      : {};
    const req = request(url, { method: options.method ?? 'GET', ca, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${url}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A flattened JWS (RFC 8555 section 6.2) signed with a new P-256 key embedded as `jwk`. */
function signedJws(url: string, nonce: string, payload: unknown): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = privateKey.export({ format: 'jwk' });
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const protectedHeader = encode({ alg: 'ES256', jwk: { crv, kty, x, y }, nonce, url });
  const body = encode(payload);
  const signature = sign('sha256', Buffer.from(`${protectedHeader}.${body}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return JSON.stringify({ protected: protectedHeader, payload: body, signature: signature.toString('base64url') });
}
