import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';

export interface Handshake {
  serial: string;
  subjectaltname: string;
  issuer: string;
  /** Whether the chain verified against `ca` for the name. */
  authorized: boolean;
  authorizationError: string | undefined;
}

export const normalSerial = (serial: string) => serial.toUpperCase().replace(/^0+/, '');

/** One TLS handshake with `servername` (none when undefined) to 127.0.0.1:`port`. */
export function handshake(port: number, servername: string | undefined, ca?: string): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ...(servername !== undefined ? { servername } : {}),
      ...(ca ? { ca } : {}),
      rejectUnauthorized: false,
    });
    socket.setTimeout(30_000, () => socket.destroy(new Error('handshake timed out')));
    socket.once('secureConnect', () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      resolve({
        serial: normalSerial(cert.serialNumber ?? ''),
        subjectaltname: cert.subjectaltname ?? '',
        issuer: String(cert.issuer?.CN ?? ''),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
      });
      socket.end();
    });
    socket.once('error', reject);
  });
}

/**
 * GET https://`name`:`port``path` against 127.0.0.1 with the certificate verified against `ca`
 * (as `curl --resolve NAME:PORT:127.0.0.1 --cacert CA` would).
 */
export function httpsGet(
  port: number,
  name: string,
  path: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, servername: name, ca, headers: { host: `${name}:${port}`, ...headers }, agent: false },
      (res) => {
        let body = '';
        const serial = normalSerial((res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber ?? '');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A plain HTTP GET to 127.0.0.1:`port` with an explicit Host header (fetch does not let one set Host). */
export function httpGet(port: number, path: string, host: string): Promise<HttpAnswer> {
  return httpCall(port, { path, headers: { host } });
}

export interface HttpAnswer {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: string;
}

/**
 * One plain HTTP request to 127.0.0.1:`port` with what fetch will not let a test set: the Host
 * and Origin headers, and the source address (`localAddress`, to be another client).
 */
export function httpCall(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; localAddress?: string },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers ?? {},
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
