import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { requestedName, requestHasBody, siteName } from './visitor.js';

const http1 = (headers: Record<string, string>) => ({ httpVersionMajor: 1, headers }) as unknown as IncomingMessage;
const http2 = (headers: Record<string, string>, endAfterHeaders: boolean) =>
  ({ httpVersionMajor: 2, headers, stream: { endAfterHeaders } }) as unknown as Http2ServerRequest;

describe('visitor requests of both protocols', () => {
  it.each([
    ['Shop.Example:8443', 'shop.example'],
    ['shop.example.', 'shop.example'],
    ['shop.example:', 'shop.example'],
    ['[2001:db8::1]:443', '[2001:db8::1]'],
  ])('compares %s as the site %s', (host, name) => {
    expect(siteName(host)).toBe(name);
  });

  it("takes h2's :authority as the name, else Host", () => {
    expect(requestedName({ ':authority': 'A.example:443' })).toEqual({ name: 'a.example', conflict: false });
    expect(requestedName({ host: 'b.example' })).toEqual({ name: 'b.example', conflict: false });
    expect(requestedName({})).toEqual({ name: undefined, conflict: false });
  });

  it('sees a conflict when :authority and Host name different sites, not when they differ only in port or case', () => {
    expect(requestedName({ ':authority': 'a.example', host: 'victim.example' })).toEqual({ name: 'a.example', conflict: true });
    expect(requestedName({ ':authority': 'a.example', host: 'A.EXAMPLE:443' })).toEqual({ name: 'a.example', conflict: false });
  });

  it('knows an HTTP/1.1 body by its framing headers', () => {
    expect(requestHasBody(http1({}))).toBe(false);
    expect(requestHasBody(http1({ 'content-length': '0' }))).toBe(false);
    expect(requestHasBody(http1({ 'content-length': '5' }))).toBe(true);
    expect(requestHasBody(http1({ 'transfer-encoding': 'chunked' }))).toBe(true);
  });

  it('knows an h2 body by the missing END_STREAM, with or without Content-Length', () => {
    expect(requestHasBody(http2({}, true))).toBe(false);
    expect(requestHasBody(http2({}, false))).toBe(true);
    expect(requestHasBody(http2({ 'content-length': '0' }, false))).toBe(false);
    expect(requestHasBody(http2({ 'content-length': '12' }, false))).toBe(true);
  });
});
