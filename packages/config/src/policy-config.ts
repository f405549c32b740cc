import { isIP } from 'node:net';
import { getServers } from 'node:dns';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseEnv } from './env.js';
import { int, list, pattern, url } from './fields.js';

export const POLICY_NAMES = ['allowlist', 'dns', 'ask'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:]+)(:\d{1,5})?$/);
const hostname = z.string().regex(/^[A-Za-z0-9.-]+$/);

const spec = {
  ALLOW_POLICY: list('policies (allowlist, dns, ask), in the order they are asked', z.enum(POLICY_NAMES)).default('allowlist'),
  ALLOW_ASK_URL: url(['http:', 'https:']).optional(),
  ALLOW_ASK_TIMEOUT_MS: int(50, 30_000, 'milliseconds').default('2000'),
  ALLOW_ASK_ALLOW_TTL: int(1, 604_800, 'seconds').default('3600'),
  ALLOW_ASK_DENY_TTL: int(1, 604_800, 'seconds').default('60'),
  ALLOW_ASK_MAX_STALE: int(0, 604_800, 'seconds').default('3600'),
  DNS_SERVERS: list('DNS servers as HOST or HOST:PORT', hostPort).optional(),
  DNS_TIMEOUT_MS: int(50, 10_000, 'milliseconds').default('1000'),
  ALLOW_DNS_CNAME_TARGET: pattern('a host name', /^[A-Za-z0-9.-]+\.?$/).optional(),
  ALLOW_DNS_IPS: list(
    'IP addresses',
    z.string().refine((v) => isIP(v) !== 0),
  ).optional(),
  DNS_MIN_TTL: int(0, 86_400, 'seconds').default('5'),
  DNS_MAX_TTL: int(1, 604_800, 'seconds').default('3600'),
  DNS_NEGATIVE_TTL: int(0, 86_400, 'seconds').default('5'),
  DNS_MAX_STALE: int(0, 604_800, 'seconds').default('300'),
  CAA_IDENTITIES: list('CA issuer domains', hostname).default('letsencrypt.org'),
  FORBIDDEN_SUFFIXES: list('domain suffixes', hostname).optional(),
};

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

export function parseServer(text: string): { host: string; port: number } {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] ?? '', port: Number(bracketed[2] ?? 53) };
  if (isIP(text) === 6) return { host: text, port: 53 };
  const [host = '', port] = text.split(':');
  return { host, port: Number(port ?? 53) };
}

/** The domain policy, read by the edge, the issuer and `certfleet domains check`. */
export function loadPolicyConfig(env: NodeJS.ProcessEnv): PolicyConfig {
  const e = parseEnv(spec, env);
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
          timeoutMs: e.ALLOW_ASK_TIMEOUT_MS,
          allowTtlMs: e.ALLOW_ASK_ALLOW_TTL * 1000,
          denyTtlMs: e.ALLOW_ASK_DENY_TTL * 1000,
          maxStaleMs: e.ALLOW_ASK_MAX_STALE * 1000,
        }
      : undefined,
    dns: policies.includes('dns')
      ? {
          servers: (e.DNS_SERVERS ?? getServers()).map(parseServer),
          timeoutMs: e.DNS_TIMEOUT_MS,
          cnameTarget: e.ALLOW_DNS_CNAME_TARGET ? lower([e.ALLOW_DNS_CNAME_TARGET])[0] : undefined,
          ips: e.ALLOW_DNS_IPS ?? [],
          caaIdentities: lower(e.CAA_IDENTITIES),
          minTtlMs: e.DNS_MIN_TTL * 1000,
          maxTtlMs: e.DNS_MAX_TTL * 1000,
          negativeTtlMs: e.DNS_NEGATIVE_TTL * 1000,
          maxStaleMs: e.DNS_MAX_STALE * 1000,
        }
      : undefined,
    forbiddenSuffixes: lower(e.FORBIDDEN_SUFFIXES),
  };
}
