import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact.js';

describe('redactUrl', () => {
  it.each([
    ['redis://user:hunter2@host:6379', 'redis://user:***@host:6379'],
    ['rediss://:hunter2@redis.example:6380/0', 'rediss://:***@redis.example:6380/0'],
    // A bare token as the user name is a secret too.
    ['https://ghp_hunter2@git.example/repo', 'https://***@git.example/repo'],
    // new URL refuses these: the password holds an unencoded "/", "#" or "?" (or an "@").
    ['redis://user:hun/ter2@host:6379', 'redis://user:***@host:6379'],
    ['redis://user:hun#ter2@host:6379', 'redis://user:***@host:6379'],
    ['redis://user:hun@ter?2@host:6379', 'redis://user:***@host:6379'],
    // Parses, but with host "user" and port 12: the last "@" still ends the credentials.
    ['https://user:12/hunter2@host', 'https://user:***@host'],
    // No scheme at all.
    ['user:hunter2@host:6379', 'user:***@host:6379'],
  ])('masks the credentials of %s', (given, shown) => {
    expect(redactUrl(given)).toBe(shown);
  });

  it.each([
    ['https://ask.example/check?key=hunter2', 'https://ask.example/check?key=***'],
    ['https://ask.example/check?a=1&password=hunter2&b=2', 'https://ask.example/check?a=1&password=***&b=2'],
    ['https://ask.example/check?api_key=hunter2#top', 'https://ask.example/check?api_key=***#top'],
    ['https://ask.example/check?access_token=hunter2;sig=abc', 'https://ask.example/check?access_token=***;sig=***'],
    ['redis://host:6379?password=hunter2', 'redis://host:6379?password=***'],
  ])('masks secret query values in %s', (given, shown) => {
    expect(redactUrl(given)).toBe(shown);
  });

  it('leaves a URL without secrets as it was given', () => {
    for (const url of ['redis://127.0.0.1:6379', 'https://acme.example/directory?profile=tlsserver', 'not a url']) {
      expect(redactUrl(url)).toBe(url);
    }
  });
});
