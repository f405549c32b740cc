import { isIP } from 'node:net';
import { getServers } from 'node:dns';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseEnv, variableNamesOf } from './env.js';
import { durationFormerlyMs, durationFormerlySeconds, list, pattern, url } from './fields.js';
import { dnsServers, toDnsServers } from './dns-servers.js';

export const POLICY_NAMES = ['allowlist', 'dns', 'ask'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

const hostname = z.string().regex(/^[A-Za-z0-9.-]+$/);

const DAY = 86_400_000;

const spec = {
  ALLOW_POLICY: list('policies (allowlist, dns, ask), in the order they are asked', z.enum(POLICY_NAMES)).default('allowlist'),
  ALLOW_ASK_URL: url(['http:', 'https:']).optional(),
  ALLOW_ASK_TIMEOUT: durationFormerlyMs('ALLOW_ASK_TIMEOUT_MS', 50, 30_000).default('2s'),
  ALLOW_ASK_ALLOW_TTL: durationFormerlySeconds(1_000, 7 * DAY).default('1h'),
  ALLOW_ASK_DENY_TTL: durationFormerlySeconds(1_000, 7 * DAY).default('60s'),
  ALLOW_ASK_MAX_STALE: durationFormerlySeconds(0, 7 * DAY).default('1h'),
  DNS_SERVERS: dnsServers().optional(),
  DNS_TIMEOUT: durationFormerlyMs('DNS_TIMEOUT_MS', 50, 10_000).default('1s'),
  ALLOW_DNS_CNAME_TARGET: pattern('a host name', /^[A-Za-z0-9.-]+\.?$/).optional(),
  ALLOW_DNS_IPS: list(
    'IP addresses',
    z.string().refine((v) => isIP(v) !== 0),
  ).optional(),
  DNS_MIN_TTL: durationFormerlySeconds(0, DAY).default('5s'),
  DNS_MAX_TTL: durationFormerlySeconds(1_000, 7 * DAY).default('1h'),
  DNS_NEGATIVE_TTL: durationFormerlySeconds(0, DAY).default('5s'),
  DNS_MAX_STALE: durationFormerlySeconds(0, 7 * DAY).default('5m'),
  CAA_IDENTITIES: list('CA issuer domains', hostname).default('letsencrypt.org'),
  FORBIDDEN_SUFFIXES: list('domain suffixes', hostname).optional(),
};

/** The variables this module reads (see unknown-variables.ts). */
export const POLICY_VARIABLES: readonly string[] = variableNamesOf(spec);

export interface PolicyConfig {
  /** The policies in the order they are asked; the first definite answer wins; deny by default. */
  policies: PolicyName[];
  ask: { url: URL; timeoutMs: number; allowTtlMs: number; denyTtlMs: number; maxStaleMs: number } | undefined;
  dns:
    | {
        servers: { host: string; port: number }[];
        timeoutMs: number;
        cnameTarget: string | undefined;
        ips: string[];
        caaIdentities: string[];
        minTtlMs: number;
        maxTtlMs: number;
        negativeTtlMs: number;
        maxStaleMs: number;
      }
    | undefined;
  /** Names under these are refused everywhere, besides the built-in ones (localhost, local, internal, ...). */
  forbiddenSuffixes: string[];
}

/** The domain policy, read by the edge, the issuer and `certfleet domains check`. */
export function loadPolicyConfig(env: NodeJS.ProcessEnv, warnings: string[] = []): PolicyConfig {
  const e = parseEnv(spec, env, warnings);
  const policies = e.ALLOW_POLICY as PolicyName[];
  const duplicate = policies.find((p, i) => policies.indexOf(p) !== i);
  if (duplicate) throw new ConfigError('ALLOW_POLICY', `ALLOW_POLICY names "${duplicate}" twice: list each policy once`);
  if (policies.includes('ask') && !e.ALLOW_ASK_URL) {
    throw new ConfigError(
      'ALLOW_ASK_URL',
      'ALLOW_ASK_URL is required when ALLOW_POLICY has ask: set it to the URL certfleet calls with ?domain=NAME',
    );
  }
  if (policies.includes('dns') && !e.ALLOW_DNS_CNAME_TARGET && !e.ALLOW_DNS_IPS) {
    throw new ConfigError(
      'ALLOW_DNS_CNAME_TARGET',
      'ALLOW_DNS_CNAME_TARGET or ALLOW_DNS_IPS is required when ALLOW_POLICY has dns: set the host name customers CNAME to, or the fleet addresses',
    );
  }
  const lower = (items: string[] | undefined) => (items ?? []).map((item) => item.toLowerCase().replace(/\.$/, ''));
  return {
    policies,
    ask: e.ALLOW_ASK_URL
      ? {
          url: e.ALLOW_ASK_URL,
          timeoutMs: e.ALLOW_ASK_TIMEOUT,
          allowTtlMs: e.ALLOW_ASK_ALLOW_TTL,
          denyTtlMs: e.ALLOW_ASK_DENY_TTL,
          maxStaleMs: e.ALLOW_ASK_MAX_STALE,
        }
      : undefined,
    dns: policies.includes('dns')
      ? {
          servers: toDnsServers(e.DNS_SERVERS ?? getServers()),
          timeoutMs: e.DNS_TIMEOUT,
          cnameTarget: e.ALLOW_DNS_CNAME_TARGET ? lower([e.ALLOW_DNS_CNAME_TARGET])[0] : undefined,
          ips: e.ALLOW_DNS_IPS ?? [],
          caaIdentities: lower(e.CAA_IDENTITIES),
          minTtlMs: e.DNS_MIN_TTL,
          maxTtlMs: e.DNS_MAX_TTL,
          negativeTtlMs: e.DNS_NEGATIVE_TTL,
          maxStaleMs: e.DNS_MAX_STALE,
        }
      : undefined,
    forbiddenSuffixes: lower(e.FORBIDDEN_SUFFIXES),
  };
}
