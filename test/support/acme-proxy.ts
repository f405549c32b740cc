import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pebble } from './pebble.js';

/** What an ACME request is for, read from its path (Pebble's directory plus its fixed resource prefixes). */
export type AcmeKind =
  | 'directory'
  | 'nonce'
  | 'newAccount'
  | 'newOrder'
  | 'authz'
  | 'challenge'
  | 'finalize'
  | 'order'
  | 'cert'
  | 'renewalInfo'
  | 'other';

/** One request the proxy received. The object is live: `status` is filled in when the answer is known. */
interface ProxyRecord {
  /** When the request reached the proxy (epoch ms). */
  at: number;
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  /** The status the client got; 0 while pending, and for a reset. */
  status: number;
  kind: AcmeKind;
  /** Whether the request reached Pebble (false for injected answers and resets). */
  forwarded: boolean;
  /** The JWS payload of a POST, decoded (null for POST-as-GET and non-JWS bodies). */
  payload: unknown;
}

/** An injected RFC 8555 problem answer; nothing reaches Pebble. */
interface ProblemAnswer {
  status: number;
  /** Sent verbatim as `Retry-After`: delay-seconds (`'20'`) or an HTTP date. */
  retryAfter?: string;
  /** Default: `rateLimited` for 429, `serverInternal` otherwise. */
  problemType?: string;
  detail?: string;
}

/**
 * A fault to inject. The first live rule whose `kind` (and `path`, when given) matches a request
 * applies to it; then the `hook` runs, then the `delayMs`, then the request is reset, answered
 * with `respond`, or forwarded (when neither is set).
 */
interface ProxyRule {
  kind: AcmeKind;
  /** Tested against the request's path and query. */
  path?: RegExp;
  /** Apply to this many requests, then expire. Default: until removed. */
  times?: number;
  respond?: ProblemAnswer;
  /** Destroy the client's socket without an answer (the client sees a network error). */
  reset?: boolean;
  delayMs?: number;
  /** Runs before anything else happens to the request, e.g. to kill an issuer at finalize. */
  hook?: (record: ProxyRecord) => void | Promise<void>;
  /** Rewrites Pebble's JSON answer before the client sees it (e.g. a directory without renewalInfo). */
  rewriteJson?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** Headers set on Pebble's answer before the client sees it (e.g. a renewalInfo `retry-after`). */
  setHeaders?: Record<string, string>;
}

/** A fault-injecting HTTPS proxy in front of one Pebble. */
export interface AcmeProxy {
  /** Give this to the client instead of Pebble's: every URL Pebble hands out then points here. */
  directoryUrl: string;
  port: number;
  /** The proxy serves Pebble's own listener certificate: this is the client's ACME_CA_BUNDLE. */
  caBundlePath: string;
  /** Every request so far, oldest first. */
  records(): ProxyRecord[];
  /** newOrder requests that reached Pebble (an injected 429 or a reset is not among them). */
  newOrders(): ProxyRecord[];
  /** Adds a rule after the existing ones; returns a function that removes it. */
  addRule(rule: ProxyRule): () => void;
  clearRules(): void;
  stop(): Promise<void>;
}

// Pebble's resource paths outside the directory (wfe/wfe.go: orderPath, orderFinalizePath,
// authzPath, challengePath, certPath). The directory itself gives the rest.
const RESOURCE_PREFIXES: [string, AcmeKind][] = [
  ['/my-order/', 'order'],
  ['/finalize-order/', 'finalize'],
  ['/authZ/', 'authz'],
  ['/chalZ/', 'challenge'],
  ['/certZ/', 'cert'],
];

/**
 * Starts a proxy on 127.0.0.1 (a port of the OS's choice) that forwards every request to Pebble
 * and streams the answer back, recording each one and applying the rules added at run time.
 *
 * It is transparent without rewriting anything: Pebble builds every URL it hands out (directory,
 * Location, Link, order/authz/cert URLs, the account URL it expects as `kid`) from the request's
 * Host header and from TLS (`relativeEndpoint` in wfe/wfe.go), and checks the JWS `url` against
 * `https://` + Host + request URI. The proxy keeps the client's Host (`127.0.0.1:PROXYPORT`) and
 * speaks TLS to Pebble, so Pebble names the proxy everywhere and accepts the signatures.
 */
export async function startAcmeProxy(
  pebble: Pick<Pebble, 'directoryUrl' | 'listenerCertPath' | 'listenerCertPem' | 'listenerKeyPath'>,
): Promise<AcmeProxy> {
  const upstream = new URL(pebble.directoryUrl);
  const agent = new Agent({ ca: pebble.listenerCertPem, keepAlive: true });
  const call = (method: string, path: string) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      // Pebble 2.7+ refuses requests without a User-Agent (RFC 8555 6.1).
      request(
        { host: upstream.hostname, port: upstream.port, method, path, agent, headers: { 'user-agent': 'certfleet-test-proxy' } },
        resolve,
      )
        .on('error', reject)
        .end();
    });
  const directory = await call('GET', upstream.pathname).then(readJson);
  const kinds = new Map<string, AcmeKind>([[upstream.pathname, 'directory']]);
  for (const [key, kind] of [
    ['newNonce', 'nonce'],
    ['newAccount', 'newAccount'],
    ['newOrder', 'newOrder'],
    ['renewalInfo', 'renewalInfo'],
  ] as const) {
    if (typeof directory[key] === 'string') kinds.set(new URL(directory[key]).pathname, kind);
  }
  const noncePath = [...kinds].find(([, kind]) => kind === 'nonce')?.[0] ?? '/nonce-plz';
  const classify = (path: string): AcmeKind => {
    const pathname = path.split('?')[0] ?? path;
    const exact = kinds.get(pathname);
    if (exact) return exact;
    // renewalInfo is a prefix: the certificate's ARI id follows it.
    for (const [prefix, kind] of kinds) if (kind === 'renewalInfo' && pathname.startsWith(`${prefix}/`)) return kind;
    return RESOURCE_PREFIXES.find(([prefix]) => pathname.startsWith(prefix))?.[1] ?? 'other';
  };

  const log: ProxyRecord[] = [];
  let rules: { rule: ProxyRule; left: number }[] = [];
  const take = (record: ProxyRecord): ProxyRule | undefined => {
    const entry = rules.find(({ rule, left }) => left > 0 && rule.kind === record.kind && (!rule.path || rule.path.test(record.path)));
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) rules = rules.filter((e) => e !== entry);
    return entry.rule;
  };
  // Aborts pending delays at stop(), so that no held request outlives the proxy.
  const stopping = new AbortController();

  // RFC 8555 6.5: every answer carries a fresh nonce, and clients that keep the last one fail
  // their next request without it (acme-client 5.4 happens to HEAD newNonce before each POST).
  // Pebble's nonces are not bound to a URL, so one from its newNonce endpoint fits any answer.
  const freshNonce = async (): Promise<string> => {
    const answer = await call('HEAD', noncePath);
    answer.resume();
    const nonce = answer.headers['replay-nonce'];
    if (typeof nonce !== 'string') throw new Error(`Pebble gave no Replay-Nonce on HEAD ${noncePath} (status ${answer.statusCode})`);
    return nonce;
  };

  const answerProblem = async (res: ServerResponse, record: ProxyRecord, answer: ProblemAnswer) => {
    const type = answer.problemType ?? `urn:ietf:params:acme:error:${answer.status === 429 ? 'rateLimited' : 'serverInternal'}`;
    const body = JSON.stringify({ type, detail: answer.detail ?? `injected by the test proxy (${answer.status})`, status: answer.status });
    const headers: Record<string, string | number> = {
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(body),
      'replay-nonce': await freshNonce(),
    };
    if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
    record.status = answer.status;
    res.writeHead(answer.status, headers).end(body);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, record: ProxyRecord, body: Buffer, rule?: ProxyRule) => {
    const rewrite = rule?.rewriteJson;
    record.forwarded = true;
    // req.headers keeps the client's Host: that is what makes Pebble name the proxy (see above).
    const toPebble = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: record.path, headers: req.headers, agent },
      (answer) => {
        record.status = answer.statusCode ?? 502;
        const headers = { ...answer.headers, ...rule?.setHeaders };
        if (!rewrite) {
          res.writeHead(record.status, headers);
          answer.pipe(res);
          return;
        }
        void readAll(answer).then((raw) => {
          const text = JSON.stringify(rewrite(JSON.parse(raw.toString('utf8')) as Record<string, unknown>));
          res.writeHead(record.status, { ...headers, 'content-length': Buffer.byteLength(text) }).end(text);
        });
      },
    );
    toPebble.on('error', (error) => fail(res, record, 502, `forwarding to Pebble: ${error.message}`));
    // The client went away before the answer was complete: stop Pebble's side too.
    res.on('close', () => res.writableFinished || toPebble.destroy());
    toPebble.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const body = await readAll(req);
    const record: ProxyRecord = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path,
      status: 0,
      kind: classify(path),
      forwarded: false,
      payload: jwsPayload(body),
    };
    log.push(record);
    const rule = take(record);
    try {
      await rule?.hook?.(record);
      if (rule?.delayMs) await sleep(rule.delayMs, undefined, { signal: stopping.signal });
      if (rule?.reset) return void req.socket.destroy();
      if (rule?.respond) return void (await answerProblem(res, record, rule.respond));
      forward(req, res, record, body, rule);
    } catch (error) {
      if (stopping.signal.aborted) return void req.socket.destroy();
      fail(res, record, 500, `test proxy rule for ${record.kind} failed: ${(error as Error).message}`);
    }
  };

  const server = createServer(
    { cert: pebble.listenerCertPem, key: readFileSync(pebble.listenerKeyPath) },
    (req, res) => void handle(req, res),
  );
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    directoryUrl: `https://127.0.0.1:${port}${upstream.pathname}`,
    port,
    caBundlePath: pebble.listenerCertPath,
    records: () => [...log],
    newOrders: () => log.filter((r) => r.kind === 'newOrder' && r.forwarded),
    addRule(rule) {
      const entry = { rule, left: rule.times ?? Infinity };
      rules.push(entry);
      return () => {
        rules = rules.filter((e) => e !== entry);
      };
    },
    clearRules: () => {
      rules = [];
    },
    async stop() {
      stopping.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** Answers `status` with a plain-text explanation, or cuts the connection if the answer has begun. */
function fail(res: ServerResponse, record: ProxyRecord, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  record.status = status;
  res.writeHead(status, { 'content-type': 'text/plain' }).end(`${message}\n`);
}

async function readJson(answer: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of answer) text += String(chunk);
  if (answer.statusCode !== 200) throw new Error(`Pebble's directory answered ${answer.statusCode}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The decoded payload of a flattened JWS (RFC 8555 6.2), or null. */
function jwsPayload(body: Buffer): unknown {
  if (body.length === 0) return null;
  try {
    const { payload } = JSON.parse(body.toString('utf8')) as { payload?: string };
    return payload ? JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) : null;
  } catch {
    return null;
  }
}

/** A CA without ARI, as the issuers see it: the directory loses its `renewalInfo`. */
export function hideRenewalInfo(proxy: AcmeProxy | undefined): void {
  proxy?.addRule({ kind: 'directory', rewriteJson: ({ renewalInfo: _dropped, ...directory }) => directory });
}
