/**
 * The benchmark's Node TLS clients, where a certificate must be verified against Pebble's root or
 * read (handshake load comes from bench/tls-load.c).
 */
import { connect } from 'node:tls';
import { request } from 'node:https';

export interface Target {
  /** Loopback address the server listens on. */
  address: string;
  port: number;
}

/**
 * A failure's reason, short enough to group by: OpenSSL's reason for a TLS error ("write EPROTO
 * 80...:error:0A000438:SSL routines:ssl3_read_bytes:tlsv1 alert internal error:../deps/..." is
 * "tlsv1 alert internal error"), else the message's first line.
 */
export function failureReason(message: string): string {
  const openssl = /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1];
  return (openssl ?? message.split('\n')[0] ?? '').trim().slice(0, 120);
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
    const done = (real: boolean, error?: string) => resolve({ name, ms: performance.now() - started, real, ...(error ? { error } : {}) });
    const req = request(
      { host: target.address, port: target.port, path: '/', servername: name, ca, headers: { host: name }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200, res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => done(false, failureReason(error.message)));
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
