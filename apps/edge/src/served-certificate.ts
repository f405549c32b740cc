import type { TLSSocket } from 'node:tls';

const SERVED_REAL = Symbol('certfleet.servedRealCertificate');

/**
 * Whether a connection's handshake was served a real certificate, noted by the SNI callback on
 * the socket itself. The proxy used to ask `socket.getCertificate()` once per connection and
 * compare fingerprints with the fallback's: that builds a JS object of the whole certificate,
 * 4.5 % of an edge's CPU under full handshakes (profiled). A symbol property is also readable
 * through the proxy object node:http2 gives for a session's socket.
 */
export function noteRealCertificate(socket: TLSSocket | undefined): void {
  if (socket) (socket as unknown as Record<symbol, boolean>)[SERVED_REAL] = true;
}

/** True when the SNI callback served this connection a real certificate (false for the fallback, or no SNI). */
export function servedRealCertificate(socket: TLSSocket): boolean {
  return (socket as unknown as Record<symbol, boolean | undefined>)[SERVED_REAL] === true;
}
