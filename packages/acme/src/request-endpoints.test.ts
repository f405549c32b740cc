import { describe, expect, it } from 'vitest';
import { createEndpointNamer, MAX_ENDPOINTS, pathTemplate } from './request-endpoints.js';

const pebbleDirectory = {
  newNonce: 'https://pebble:14000/nonce-plz',
  newAccount: 'https://pebble:14000/sign-me-up',
  newOrder: 'https://pebble:14000/order-plz',
  revokeCert: 'https://pebble:14000/revoke-cert',
  keyChange: 'https://pebble:14000/rollover-account-key',
  renewalInfo: 'https://pebble:14000/draft-ietf-acme-ari-03/renewalInfo',
  meta: { termsOfService: 'data:text/plain,Do%20what%20thou%20wilt' },
};

describe('ACME request endpoints', () => {
  it('names the directory resources by their RFC 8555 names once the directory was read', () => {
    const namer = createEndpointNamer();
    namer.learn('https://pebble:14000/dir', JSON.stringify(pebbleDirectory));
    expect(namer.endpointOf('https://pebble:14000/dir')).toBe('/directory');
    expect(namer.endpointOf('https://pebble:14000/order-plz')).toBe('/acme/new-order');
    expect(namer.endpointOf('https://pebble:14000/nonce-plz')).toBe('/acme/new-nonce');
    expect(namer.endpointOf('https://pebble:14000/sign-me-up')).toBe('/acme/new-account');
    expect(namer.endpointOf('https://pebble:14000/draft-ietf-acme-ari-03/renewalInfo/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE')).toBe(
      '/acme/renewal-info',
    );
  });

  it("replaces a CA's ids by :id, so one order never makes a series of its own", () => {
    const namer = createEndpointNamer();
    expect(namer.endpointOf('https://pebble:14000/my-order/W7hb9YDLH4I7oCEvP5vb0HBMDc4DTZXgVS7zWDnAKMo')).toBe('/my-order/:id');
    expect(namer.endpointOf('https://pebble:14000/finalize-order/Qx1_2')).toBe('/finalize-order/:id');
    expect(namer.endpointOf('https://acme-v02.api.letsencrypt.org/acme/order/123456/987654')).toBe('/acme/order/:id');
    expect(namer.endpointOf('https://acme-v02.api.letsencrypt.org/acme/chall-v3/123/xYz')).toBe('/acme/chall-v3/:id');
    expect(namer.endpointOf('https://acme-v02.api.letsencrypt.org/acme/cert/03a1b2')).toBe('/acme/cert/:id');
  });

  it('keeps at most three word segments and ignores query strings', () => {
    expect(pathTemplate('https://ca.example/a/b/c/d/e')).toBe('/a/b/c/:id');
    expect(pathTemplate('https://ca.example/acme/new-order?x=1')).toBe('/acme/new-order');
    expect(pathTemplate('not a url')).toBe('other');
  });

  it('learns nothing from bodies that are not a directory, however hostile', () => {
    const namer = createEndpointNamer();
    namer.learn('https://ca.example/x', '{"newOrder": 5, "newNonce": "https://ca.example/n"}');
    namer.learn('https://ca.example/y', `{"newOrder":"https://ca.example/o","newNonce":"${'a'.repeat(70_000)}"}`);
    namer.learn('https://ca.example/z', '{"newOrder": "broken');
    namer.learn('https://ca.example/w', null);
    namer.learn('https://ca.example/v', ['newOrder']);
    expect(namer.endpointOf('https://ca.example/o')).toBe('/o');
    expect(namer.endpointOf('https://ca.example/y')).toBe('/y');
  });

  it(`counts endpoints past the ${MAX_ENDPOINTS}th distinct one as other, whatever a CA's URLs look like`, () => {
    const namer = createEndpointNamer();
    const word = (i: number) => `e${String.fromCharCode(97 + Math.floor(i / 26), 97 + (i % 26))}`;
    for (let i = 0; i < MAX_ENDPOINTS; i++) expect(namer.endpointOf(`https://ca.example/${word(i)}`)).toBe(`/${word(i)}`);
    expect(namer.endpointOf('https://ca.example/another-word')).toBe('other');
    // One seen before keeps its name.
    expect(namer.endpointOf('https://ca.example/eaa')).toBe('/eaa');
  });
});
