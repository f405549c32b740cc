import { webcrypto } from 'node:crypto';

// @peculiar/x509 takes most of a second to load, and a fleet makes its fallback certificate
// once: loaded on first use, so an edge's start-up does not pay for it.
let x509Module: Promise<typeof import('@peculiar/x509')> | undefined;
function loadX509(): Promise<typeof import('@peculiar/x509')> {
  x509Module ??= import('@peculiar/x509').then((x509) => {
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  });
  return x509Module;
}

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/**
 * A self-signed ECDSA P-256 certificate, for the fallback served to names we have no certificate
 * for. Browsers will warn on it, which is the point: it must never pass for the customer's own.
 */
export async function createSelfSignedCertificate(options: { commonName: string; validDays: number; now?: Date }): Promise<PemPair> {
  const x509 = await loadX509();
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const notBefore = options.now ?? new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${options.commonName}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.validDays * 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: options.commonName }]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: cert.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  };
}
