import { z } from 'zod';
import { parseEnv, variableNamesOf } from './env.js';
import { ConfigError } from './errors.js';
import { duration, field, int, secretText } from './fields.js';
import { redactUrl } from './redact.js';

/** One receiver URL: http or https, and nothing a delivery could not honour. */
const receiverUrl = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a URL` });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not http:// or https://` });
    return z.NEVER;
  }
  return url.href;
});

/**
 * A comma-separated list of receiver URLs. Echoed back redacted: a receiver may take a password
 * in its URL (basic auth), which must not reach a log through a config error.
 */
const receiverUrls = () =>
  field(
    'a comma-separated list of http:// or https:// URLs, e.g. https://panel.example/hooks/certfleet',
    z.string().transform((text, ctx) => {
      const urls: string[] = [];
      for (const part of text.split(',').map((item) => item.trim())) {
        const parsed = receiverUrl.safeParse(part);
        if (!parsed.success || part === '') {
          ctx.addIssue({ code: 'custom', message: part === '' ? 'an empty item' : (parsed.error?.issues[0]?.message ?? 'not a URL') });
          return z.NEVER;
        }
        if (!urls.includes(parsed.data)) urls.push(parsed.data);
      }
      return urls;
    }),
    { echo: 'url' },
  );

const spec = {
  WEBHOOK_URLS: receiverUrls().optional(),
  WEBHOOK_SECRET: secretText(16).optional(),
  WEBHOOK_EXPIRING_DAYS: int(1, 365, 'days').default('14'),
  /** The first retry's delay; each next one doubles. Tests shorten it; operators rarely need to. */
  WEBHOOK_BACKOFF: duration(10, 3_600_000).default('10s'),
  /** How long a delivery keeps being retried before it is given up (its job stays failed in bull-board). */
  WEBHOOK_RETRY_FOR: duration(100, 30 * 86_400_000).default('24h'),
  WEBHOOK_TIMEOUT: duration(100, 120_000).default('10s'),
};

/** The variables this module reads (see unknown-variables.ts). */
export const WEBHOOK_VARIABLES: readonly string[] = variableNamesOf(spec);

/** Where hostname and certificate events are sent, and how hard certfleet tries. */
export interface WebhookConfig {
  /** Receiver URLs, normalised and without duplicates; each event is delivered to each one. */
  urls: string[];
  /** HMAC-SHA256 key of the `Certfleet-Signature` header. */
  secret: string;
  /** `certificate.expiring` is sent this long before a certificate's notAfter when it was not renewed. */
  expiringMs: number;
  /** Delay before the first retry; doubled at each next one. */
  backoffMs: number;
  /** Retries stop once their delays would add up to more than this. */
  retryForMs: number;
  /** One delivery attempt, from connect to the end of the response's headers. */
  timeoutMs: number;
}

/**
 * WEBHOOK_* → the webhook settings, or undefined when WEBHOOK_URLS is unset (no webhooks).
 * WEBHOOK_SECRET is required with URLs: an unsigned event could be forged by anyone who can
 * reach the receiver.
 */
export function loadWebhookConfig(env: NodeJS.ProcessEnv, warnings: string[] = []): WebhookConfig | undefined {
  const e = parseEnv(spec, env, warnings);
  if (!e.WEBHOOK_URLS) return undefined;
  if (!e.WEBHOOK_SECRET) {
    throw new ConfigError(
      'WEBHOOK_SECRET',
      `WEBHOOK_SECRET is required when WEBHOOK_URLS is set (${redactUrl(e.WEBHOOK_URLS.join(','))}): set it to a secret of at least 16 characters shared with the receivers, who verify each event's Certfleet-Signature with it`,
    );
  }
  return {
    urls: e.WEBHOOK_URLS,
    secret: e.WEBHOOK_SECRET,
    expiringMs: e.WEBHOOK_EXPIRING_DAYS * 86_400_000,
    backoffMs: e.WEBHOOK_BACKOFF,
    retryForMs: e.WEBHOOK_RETRY_FOR,
    timeoutMs: e.WEBHOOK_TIMEOUT,
  };
}
