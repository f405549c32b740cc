import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { unknownVariableWarnings } from './unknown-variables.js';
import { loadWebhookConfig } from './webhook-config.js';

const SECRET = 'a-webhook-secret-of-some-length';

const errorOf = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    loadWebhookConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no error');
};

describe('webhook configuration', () => {
  it('is off when WEBHOOK_URLS is unset', () => {
    expect(loadWebhookConfig({})).toBeUndefined();
    expect(loadWebhookConfig({ WEBHOOK_SECRET: SECRET })).toBeUndefined();
  });

  it('reads the receivers, trimmed and without duplicates, and the defaults', () => {
    const config = loadWebhookConfig({
      WEBHOOK_URLS: ' https://panel.example/hooks , http://10.0.0.5:8080/certfleet,https://panel.example/hooks',
      WEBHOOK_SECRET: SECRET,
    });
    expect(config).toEqual({
      urls: ['https://panel.example/hooks', 'http://10.0.0.5:8080/certfleet'],
      secret: SECRET,
      expiringMs: 14 * 86_400_000,
      backoffMs: 10_000,
      retryForMs: 86_400_000,
      timeoutMs: 10_000,
    });
  });

  it('requires WEBHOOK_SECRET with URLs, naming it and never echoing the URLs password', () => {
    const error = errorOf({ WEBHOOK_URLS: 'https://hook:hunter22@panel.example/hooks' });
    expect(error.variable).toBe('WEBHOOK_SECRET');
    expect(error.message).toMatch(/^WEBHOOK_SECRET is required when WEBHOOK_URLS is set/);
    expect(error.message).not.toContain('hunter22');
  });

  it('refuses a short secret without showing it', () => {
    const error = errorOf({ WEBHOOK_URLS: 'https://panel.example/h', WEBHOOK_SECRET: 'short-secret' });
    expect(error.variable).toBe('WEBHOOK_SECRET');
    expect(error.message).toBe('WEBHOOK_SECRET must be a secret of at least 16 characters, got a value of 12 characters');
  });

  it.each([
    ['ftp://panel.example/hooks', /is not http:\/\/ or https:\/\//],
    ['panel.example/hooks', /is not a URL/],
    ['https://panel.example/a,,https://panel.example/b', /an empty item/],
    ['javascript:alert(1)', /is not http/],
    ['https://', /is not a URL/],
  ])('refuses WEBHOOK_URLS=%j, saying what is wrong', (value, why) => {
    const error = errorOf({ WEBHOOK_URLS: value, WEBHOOK_SECRET: SECRET });
    expect(error.variable).toBe('WEBHOOK_URLS');
    expect(error.message).toMatch(/^WEBHOOK_URLS must be a comma-separated list of http:\/\/ or https:\/\/ URLs/);
    expect(error.message).toMatch(why);
  });

  it('masks a password in a refused URL', () => {
    const error = errorOf({ WEBHOOK_URLS: 'https://ok.example/,gopher://hook:hunter22@panel.example/', WEBHOOK_SECRET: SECRET });
    expect(error.message).not.toContain('hunter22');
    expect(error.message).toContain('***');
  });

  it('reads the retry and timeout durations and the expiring window', () => {
    const config = loadWebhookConfig({
      WEBHOOK_URLS: 'https://panel.example/h',
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_BACKOFF: '200ms',
      WEBHOOK_RETRY_FOR: '2s',
      WEBHOOK_TIMEOUT: '1s',
      WEBHOOK_EXPIRING_DAYS: '7',
    });
    expect(config).toMatchObject({ backoffMs: 200, retryForMs: 2_000, timeoutMs: 1_000, expiringMs: 7 * 86_400_000 });
    expect(errorOf({ WEBHOOK_URLS: 'https://p.example/h', WEBHOOK_SECRET: SECRET, WEBHOOK_EXPIRING_DAYS: '0' }).variable).toBe(
      'WEBHOOK_EXPIRING_DAYS',
    );
  });

  it('knows its variables, and suggests the right name for a misspelt one', () => {
    expect(unknownVariableWarnings({ WEBHOOK_URLS: 'x', WEBHOOK_SECRET: 'y', WEBHOOK_EXPIRING_DAYS: '3' })).toEqual([]);
    expect(unknownVariableWarnings({ WEBHOOK_URL: 'x' })).toEqual([
      'WEBHOOK_URL is set but no certfleet role reads it: did you mean WEBHOOK_URLS?',
    ]);
  });
});
