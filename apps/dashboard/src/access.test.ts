import { describe, expect, it } from 'vitest';
import { createTokenCheck, isCrossOrigin } from './access.js';

const VIEWER = 'a-viewer-token-for-tests';
const ADMIN = 'an-admin-token-for-tests';
const basic = (password: string) => `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}`;

describe('token check', () => {
  const check = createTokenCheck({ viewer: VIEWER, admin: ADMIN });

  it('tells the admin token from the viewer token, as bearer or basic-auth password', () => {
    expect(check(`Bearer ${ADMIN}`)).toBe('admin');
    expect(check(basic(ADMIN))).toBe('admin');
    expect(check(`Bearer ${VIEWER}`)).toBe('viewer');
    expect(check(basic(VIEWER))).toBe('viewer');
  });

  it('counts anything else presented as wrong, and no header as absent', () => {
    expect(check('Bearer nope')).toBe('wrong');
    expect(check(basic('nope'))).toBe('wrong');
    expect(check(`Digest ${VIEWER}`)).toBe('wrong');
    expect(check(undefined)).toBe('absent');
    expect(check('')).toBe('absent');
  });

  it('has no admin when DASHBOARD_ADMIN_TOKEN is unset', () => {
    const viewerOnly = createTokenCheck({ viewer: VIEWER, admin: undefined });
    expect(viewerOnly(`Bearer ${VIEWER}`)).toBe('viewer');
    expect(viewerOnly(`Bearer ${ADMIN}`)).toBe('wrong');
  });
});

describe('isCrossOrigin', () => {
  it.each([
    [undefined, '127.0.0.1:3000'],
    ['http://127.0.0.1:3000', '127.0.0.1:3000'],
    ['http://Dash.Example:3000', 'dash.example:3000'],
    ['https://dash.example', 'dash.example'],
    ['https://dash.example', 'dash.example:443'],
    ['http://[::1]:3000', '[::1]:3000'],
  ])('lets Origin %s through to Host %s', (origin, host) => {
    expect(isCrossOrigin(origin, host)).toBe(false);
  });

  it.each([
    ['https://evil.example', 'dash.example'],
    ['http://127.0.0.1:3001', '127.0.0.1:3000'],
    ['http://dash.example', 'dash.example:443'],
    ['null', 'dash.example'],
    ['not a url', 'dash.example'],
    ['https://dash.example', undefined],
  ])('refuses Origin %s to Host %s', (origin, host) => {
    expect(isCrossOrigin(origin, host)).toBe(true);
  });
});
