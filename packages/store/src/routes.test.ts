import { describe, expect, it } from 'vitest';
import { InvalidRouteError, parseRouteUrl } from './routes.js';

describe('parseRouteUrl', () => {
  it.each(['http://10.0.0.5:8080', 'https://app.example', 'http://app.example:8080/shop', 'http://[2001:db8::1]:8080/'])(
    'accepts %s',
    (text) => {
      expect(parseRouteUrl(text).href.startsWith(text.replace(/\/$/, ''))).toBe(true);
    },
  );

  it.each([
    ['app.example:8080', '"app.example:8080" must start with http:// or https://'],
    ['not a url', '"not a url" is not a URL: give the upstream as http://HOST[:PORT][/PATH]'],
    ['ftp://10.0.0.5', '"ftp://10.0.0.5" must start with http:// or https:// (got ftp://)'],
    [
      'http://admin:hunter2@10.0.0.5/',
      '"http://***@10.0.0.5/" must not carry credentials (user:password@): the edge never sends them upstream; give the URL without them',
    ],
    ['http://token@app.example', '"http://***@app.example" must not carry credentials'],
    ['http://app.example/?a=1', '"http://app.example/?a=1" must not carry a query or a fragment'],
    ['http://app.example/#top', 'must not carry a query or a fragment'],
  ])('refuses %s, saying what is wrong and what to give', (text, message) => {
    expect(() => parseRouteUrl(text)).toThrow(InvalidRouteError);
    expect(() => parseRouteUrl(text)).toThrow(message);
  });

  it('never repeats a password in its message', () => {
    expect(() => parseRouteUrl('http://admin:p@ss/w0rd@10.0.0.5/')).toThrow(/^(?!.*(admin|p@ss|w0rd)).*$/);
  });
});
