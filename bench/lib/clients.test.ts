import { describe, expect, it } from 'vitest';
import { failureReason } from './clients.js';

describe('failureReason', () => {
  it("keeps OpenSSL's reason of a TLS error", () => {
    const message =
      'write EPROTO 800C0C8F8D7F0000:error:0A000438:SSL routines:ssl3_read_bytes:tlsv1 alert internal error:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 80\n';
    expect(failureReason(message)).toBe('tlsv1 alert internal error');
  });

  it('keeps the first line of any other message', () => {
    expect(failureReason('self-signed certificate')).toBe('self-signed certificate');
    expect(failureReason('no answer within 30000 ms\nmore')).toBe('no answer within 30000 ms');
  });
});
