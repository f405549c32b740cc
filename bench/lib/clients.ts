/**
 * The benchmark's Node TLS clients, for what wrk cannot do: a distinct SNI per handshake, and a
 * new name's certificate verified against Pebble's root. (Handshake load: bench/tls-load.c.)
 */
import { connect } from 'node:tls';
import { request } from 'node:https';

export interface Target {
  /** Loopback address the server listens on. */
  address: string;
  port: number;
}

/** Handshakes (no request) with a distinct SNI each, `concurrency` at a time; counts failures. */
export async function distinctHandshakes(target: Target, names: readonly string[], concurrency: number): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const one = (name: string) =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: target.address, port: target.port, servername: name, rejectUnauthorized: false });
      socket.setTimeout(30_000, () => socket.destroy(new Error('timeout')));
      socket.once('secureConnect', () => {
        ok += 1;
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        failed += 1;
        resolve();
      });
    });
  const loop = async () => {
    while (next < names.length) await one(names[next++] as string);
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { ok, failed };
}

export interface FirstRequest {
  name: string;
  ms: number;
  /** The certificate verified against the CA's root for the name, and the answer was 200. */
  real: boolean;
  error?: string;
}

/**
 * GET https://NAME/ on `target`, verifying the chain against `ca` for NAME (a fallback or
 * self-signed certificate fails), as a visitor's browser would. Never rejects.
 */
export function firstRequest(target: Target, name: string, ca: string, timeoutMs = 30_000): Promise<FirstRequest> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (real: boolean, error?: string) =>
      resolve({ name, ms: performance.now() - started, real, ...(error ? { error } : {}) });
    const req = request(
      { host: target.address, port: target.port, path: '/', servername: name, ca, headers: { host: name }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200, res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => done(false, error.message));
    req.end();
  });
}

/** One handshake with `name`; the served certificate's serial (upper-case hex), or undefined when refused. */
export function servedSerial(target: Target, name: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.address, port: target.port, servername: name, rejectUnauthorized: false });
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')));
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate().serialNumber?.toUpperCase().replace(/^0+/, '');
      socket.destroy();
      resolve(serial);
    });
    socket.once('error', () => resolve(undefined));
  });
}
