import type { SecureContext, TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { contextFor } from './key-type-choice.js';

const ecdsa = { name: 'ecdsa' } as unknown as SecureContext;
const rsa = { name: 'rsa' } as unknown as SecureContext;
const client = (sigalgs: string[] | Error) =>
  ({
    getSharedSigalgs: () => {
      if (sigalgs instanceof Error) throw sigalgs;
      return sigalgs;
    },
  }) as unknown as TLSSocket;

describe('contextFor', () => {
  it('serves ECDSA to a client that can verify it, RSA to one that cannot', () => {
    expect(contextFor(client(['ECDSA+SHA256', 'RSA-PSS+SHA256']), ecdsa, rsa)).toBe(ecdsa);
    expect(contextFor(client(['RSA-PSS+SHA256', 'RSA+SHA256']), ecdsa, rsa)).toBe(rsa);
  });

  it('serves the only certificate there is, and ECDSA when the client cannot be asked', () => {
    expect(contextFor(client(['RSA+SHA256']), ecdsa, undefined)).toBe(ecdsa);
    expect(contextFor(undefined, ecdsa, rsa)).toBe(ecdsa);
    expect(contextFor(client(new Error('no SSL')), ecdsa, rsa)).toBe(ecdsa);
  });
});
