import { describe, expect, it } from 'vitest';
import { unreachableMessage } from './admin.js';

const reset = () => Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' });
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });
const tls = { ca: 'pem', cert: undefined, key: undefined };

describe('unreachableMessage', () => {
  it('names the client certificate when a TLS server without one configured resets every connection', () => {
    const message = unreachableMessage({ description: 'rediss://127.0.0.1:6390', tls }, reset());
    expect(message).toContain('cannot use Redis at rediss://127.0.0.1:6390');
    expect(message).toContain('(write ECONNRESET)');
    expect(message).toContain('set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE');
  });

  it('says to start Redis or point at it otherwise', () => {
    for (const [target, error] of [
      [{ description: 'redis://127.0.0.1:6390', tls: undefined }, reset()],
      [{ description: 'rediss://127.0.0.1:6390', tls: { ...tls, cert: 'pem', key: 'pem' } }, reset()],
      [{ description: 'rediss://127.0.0.1:6390', tls }, refused()],
    ] as const) {
      const message = unreachableMessage(target, error);
      expect(message).toContain(`cannot reach Redis at ${target.description} within 1.5 s`);
      expect(message).toContain('start Redis there');
      expect(message).not.toContain('REDIS_TLS_CERT_FILE');
    }
    expect(unreachableMessage({ description: 'redis://x:1', tls: undefined }, undefined)).toContain('within 1.5 s: start Redis');
  });
});
