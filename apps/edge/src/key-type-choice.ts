import type { SecureContext, TLSSocket } from 'node:tls';

/**
 * The context to serve when a name has both an ECDSA and an RSA certificate: ECDSA when the
 * client can verify an ECDSA signature, RSA otherwise.
 *
 * OpenSSL chooses between key types by itself when one context holds both, but Node's SNI path
 * cannot give it both: on Node 24 (OpenSSL 3.5) only the last key set on the connection stays
 * (`setKeyCert` for RSA, then the ECDSA context, left ECDSA alone, and RSA-only clients got a
 * handshake failure), where Node 20 kept both. So the edge chooses, from the signature
 * algorithms client and server share, which OpenSSL has already worked out when the SNI
 * callback runs (checked on Node 20 and 24). A TLS 1.2 client offering ECDSA signatures but
 * only RSA cipher suites would be misjudged: no browser does that.
 */
export function contextFor(socket: TLSSocket | undefined, ecdsa: SecureContext, rsa: SecureContext | undefined): SecureContext {
  if (!rsa || !socket) return ecdsa;
  let shared: string[];
  try {
    shared = socket.getSharedSigalgs();
  } catch {
    return ecdsa;
  }
  return shared.some((sigalg) => sigalg.startsWith('ECDSA+')) ? ecdsa : rsa;
}
