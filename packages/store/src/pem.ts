/** PEM as OpenSSL and the CAs write it: the label's lines around base64 in 64-column lines. */
export function pemOf(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * The DER inside `pem` when `pem` is exactly one block of `label` written as {@link pemOf}
 * writes it (so that keeping the DER loses nothing); undefined otherwise.
 */
export function derOf(pem: string, label: string): Buffer | undefined {
  const match = new RegExp(`^-----BEGIN ${label}-----\\n([A-Za-z0-9+/=\\n]+)\\n-----END ${label}-----\\n$`).exec(pem);
  if (!match?.[1]) return undefined;
  const der = Buffer.from(match[1].replaceAll('\n', ''), 'base64');
  return pemOf(der, label) === pem ? der : undefined;
}
