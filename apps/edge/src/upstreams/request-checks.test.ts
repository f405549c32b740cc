import { describe, expect, it } from 'vitest';
import { framingProblem, originFormTarget, upgradeAllowed } from './request-checks.js';

describe('framingProblem', () => {
  it('accepts one Content-Length, or Transfer-Encoding: chunked alone', () => {
    expect(framingProblem(['Host', 'a', 'Content-Length', '5'])).toBeUndefined();
    expect(framingProblem(['Host', 'a', 'Transfer-Encoding', 'chunked'])).toBeUndefined();
    expect(framingProblem(['Host', 'a', 'Transfer-Encoding', ' Chunked '])).toBeUndefined();
    expect(framingProblem(['Host', 'a'])).toBeUndefined();
  });

  it.each([
    ['both framings', ['Content-Length', '3', 'Transfer-Encoding', 'chunked']],
    ['two Content-Length, equal', ['Content-Length', '3', 'Content-Length', '3']],
    ['two Content-Length, conflicting', ['Content-Length', '3', 'content-length', '4']],
    ['a coding other than chunked', ['Transfer-Encoding', 'gzip']],
    ['chunked under another coding', ['Transfer-Encoding', 'gzip, chunked']],
    ['two Transfer-Encoding', ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']],
    ['a signed length', ['Content-Length', '+3']],
  ])('refuses %s', (_what, raw) => {
    expect(framingProblem(raw)).toBeTypeOf('string');
  });
});

describe('originFormTarget', () => {
  it('passes origin form, and * for OPTIONS only', () => {
    expect(originFormTarget('GET', '/a?b=1', 'shop.example')).toBe('/a?b=1');
    expect(originFormTarget('OPTIONS', '*', 'shop.example')).toBe('*');
    expect(originFormTarget('GET', '*', 'shop.example')).toBeUndefined();
  });

  it('rewrites an absolute target for the connection name to origin form', () => {
    expect(originFormTarget('GET', 'https://Shop.Example./x?y', 'shop.example')).toBe('/x?y');
    expect(originFormTarget('GET', 'http://shop.example:8080', 'shop.example')).toBe('/');
  });

  it('refuses an absolute target for another name, with credentials, or malformed, and authority form', () => {
    expect(originFormTarget('GET', 'https://victim.example/', 'shop.example')).toBeUndefined();
    expect(originFormTarget('GET', 'https://u:p@shop.example/', 'shop.example')).toBeUndefined();
    expect(originFormTarget('GET', 'https://[bad/', 'shop.example')).toBeUndefined();
    expect(originFormTarget('CONNECT', 'shop.example:443', 'shop.example')).toBeUndefined();
    expect(originFormTarget('GET', 'ftp://shop.example/', 'shop.example')).toBeUndefined();
  });
});

describe('upgradeAllowed', () => {
  it('forwards a websocket handshake only, without a body', () => {
    expect(upgradeAllowed('websocket', {})).toBe(true);
    expect(upgradeAllowed('WebSocket', { 'content-length': '0' })).toBe(true);
    expect(upgradeAllowed('h2c', {})).toBe(false);
    expect(upgradeAllowed('websocket, h2c', {})).toBe(false);
    expect(upgradeAllowed('websocket', { 'content-length': '10' })).toBe(false);
    expect(upgradeAllowed('websocket', { 'transfer-encoding': 'chunked' })).toBe(false);
    expect(upgradeAllowed(undefined, {})).toBe(false);
  });
});
