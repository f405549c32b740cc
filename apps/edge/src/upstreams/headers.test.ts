import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';

const incoming = (headers: Record<string, string>) =>
  ({ headers, socket: { remoteAddress: '::ffff:203.0.113.9', localPort: 443 } }) as unknown as IncomingMessage;

describe('proxy headers', () => {
  it('forwards end-to-end headers, drops hop-by-hop ones and those Connection lists, and sets X-Forwarded-*', () => {
    const out = upstreamRequestHeaders(
      incoming({
        host: 'shop.example',
        cookie: 'a=1',
        connection: 'keep-alive, x-secret-hop',
        'keep-alive': 'timeout=5',
        'x-secret-hop': '1',
        'proxy-authorization': 'Basic x',
        'x-forwarded-for': '6.6.6.6',
        forwarded: 'for=6.6.6.6',
      }),
      false,
      { name: 'shop.example', publicPort: 8443 },
    );
    expect(out).toEqual({
      host: 'shop.example',
      cookie: 'a=1',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'shop.example',
      'x-forwarded-port': '8443',
    });
  });

  it("sends an h2 request's :authority as Host and none of its pseudo-headers", () => {
    const out = upstreamRequestHeaders(
      incoming({
        ':method': 'GET',
        ':path': '/cart',
        ':scheme': 'https',
        ':authority': 'shop.example:8443',
        te: 'trailers',
        cookie: 'a=1; b=2',
      }),
      false,
      { name: 'shop.example', publicPort: 443 },
    );
    expect(out).toEqual({
      host: 'shop.example:8443',
      cookie: 'a=1; b=2',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'shop.example:8443',
      'x-forwarded-port': '443',
    });
  });

  it('drops HTTP2-Settings both ways, which an h2 response may not carry', () => {
    expect(
      upstreamRequestHeaders(incoming({ host: 'a.example', 'http2-settings': 'AAMAAABk' }), false, { name: 'a.example', publicPort: 443 }),
    ).not.toHaveProperty('http2-settings');
    expect(downstreamResponseHeaders(['HTTP2-Settings', 'AAMAAABk', 'X-Ok', '1'], {})).toEqual(['X-Ok', '1']);
  });

  it('keeps the upgrade handshake for a websocket', () => {
    const out = upstreamRequestHeaders(
      incoming({ host: 'a.example', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' }),
      true,
      { name: 'a.example', publicPort: 443 },
    );
    expect(out).toMatchObject({ connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
  });

  it('keeps response header case and repeats, drops hop-by-hop ones, adds extras the upstream did not send', () => {
    const raw = [
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Connection',
      'keep-alive, X-Hop',
      'X-Hop',
      '1',
      'Transfer-Encoding',
      'chunked',
      'Keep-Alive',
      'timeout=5',
    ];
    expect(downstreamResponseHeaders(raw, { 'strict-transport-security': 'max-age=1' })).toEqual([
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'strict-transport-security',
      'max-age=1',
    ]);
    expect(downstreamResponseHeaders(['Strict-Transport-Security', 'max-age=5'], { 'strict-transport-security': 'max-age=1' })).toEqual([
      'Strict-Transport-Security',
      'max-age=5',
    ]);
  });

  it('drops response headers whose name or value is not valid HTTP, telling each drop', () => {
    let dropped = 0;
    const raw = ['X-Good', 'yes', 'X Bad', '1', 'X-Ctl', 'a\u0001b', 'X-Lf', 'a\r\nInjected: 1', 'X-Obs', 'caf\u00e9', 'X-\u00e9', '1'];
    expect(downstreamResponseHeaders(raw, {}, { onDropped: () => (dropped += 1) })).toEqual(['X-Good', 'yes', 'X-Obs', 'caf\u00e9']);
    expect(dropped).toBe(4);
  });

  it('uses the connection name as Host for an HTTP/1.0 request without one, and the public port', () => {
    const out = upstreamRequestHeaders(incoming({}), false, { name: 'old.example', publicPort: 443 });
    expect(out).toMatchObject({ host: 'old.example', 'x-forwarded-host': 'old.example', 'x-forwarded-port': '443' });
  });

  it('never forwards Expect, Upgrade or Transfer-Encoding from the visitor, and upgrades only to websocket', () => {
    const plain = upstreamRequestHeaders(
      incoming({ host: 'a.example', expect: '100-continue', 'transfer-encoding': 'chunked', upgrade: 'h2c' }),
      false,
      { name: 'a.example', publicPort: 443 },
    );
    expect(plain).not.toHaveProperty('expect');
    expect(plain).not.toHaveProperty('transfer-encoding');
    expect(plain).not.toHaveProperty('upgrade');
    const ws = upstreamRequestHeaders(incoming({ host: 'a.example', connection: 'Upgrade', upgrade: 'WebSocket, h2c' }), true, {
      name: 'a.example',
      publicPort: 443,
    });
    expect(ws.upgrade).toBe('websocket');
  });
});
