import { readFileSync } from 'node:fs';
import { parseBucketSpec, type BucketSpec } from '@certfleet/budget';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseEnv, variableNamesOf } from './env.js';
import { BUCKET_EXPECT, bucket, email, field, pattern, pemFile, url } from './fields.js';

/** One ACME CA the issuers may use, with the account and budgets certfleet keeps for it. */
export interface CaConfig {
  /** Short name used in Redis keys, logs and metrics. */
  name: string;
  directoryUrl: string;
  /** PEM trusted, besides the system roots, for this CA's own TLS (Pebble's listener). */
  caBundlePem: string | undefined;
  email: string | undefined;
  /** External account binding, for CAs that require one (key id and base64url HMAC key). */
  eab: { kid: string; hmacKey: string } | undefined;
  /** Token buckets mirroring the CA's rate limits, shared by every issuer. */
  budgets: {
    /** New orders per account (Let's Encrypt: 300 per 3 h). */
    orders: BucketSpec;
    /** Certificates per registered domain (50 per 7 days). */
    registeredDomain: BucketSpec;
    /** Certificates per exact set of names (5 per 7 days). */
    nameSet: BucketSpec;
    /** Failed authorizations per name (5 per hour). */
    failedAuthz: BucketSpec;
  };
  /** Share of the order budget only a visitor waiting in a handshake may use. */
  visitorReserve: number;
  /**
   * The bucket renewals that are not ARI-exempt draw on, besides the order budget: a backlog
   * (after an outage, a bulk import expiring together) drains at this pace instead of in a
   * burst. Unset: only the order budget (and its visitor reserve) holds them back.
   */
  renewalBudget: BucketSpec | undefined;
  /**
   * ACME profile asked for in each new order (draft-aaron-acme-profiles): `classic`,
   * `tlsserver`, `shortlived` or any name the CA's directory lists in `meta.profiles`. Sent only
   * when the directory lists it; unset: the CA's default.
   */
  profile: string | undefined;
}

/** Let's Encrypt's published limits: the default profile. */
export const LETS_ENCRYPT_BUDGETS = {
  orders: '300/3h',
  registeredDomain: '50/7d',
  nameSet: '5/7d',
  failedAuthz: '5/1h',
} as const;

/** Profile names as CAs spell them (`classic`, `tlsserver`, `shortlived`). */
const PROFILE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const PROFILE_EXPECT = 'an ACME profile name such as classic, tlsserver or shortlived (letters, digits, ".", "_", "-")';

/**
 * The rules both ways of configuring a CA share, ACME_* variables and an ACME_CAS_FILE entry: one
 * schema per setting (bounds and form), one expectation text, one default. A value refused by
 * one path is refused by the other, with the same words.
 */
const VISITOR_RESERVE = {
  expect: 'a fraction from 0 to 0.9, e.g. 0.2',
  // A string in the environment, a number in the file: the same bounds either way.
  schema: z
    .union([
      z.number(),
      z
        .string()
        .regex(/^(\d+(\.\d*)?|\.\d+)$/)
        .transform(Number),
    ])
    .pipe(z.number().min(0).max(0.9)),
  default: 0.2,
};
const bucketText = z.string().refine((text) => {
  try {
    parseBucketSpec(text);
    return true;
  } catch {
    return false;
  }
}, 'not of that form');
const EAB_KEY_EXPECT = 'a base64url HMAC key';
const EAB_KEY = /^[A-Za-z0-9_-]+=*$/;

/** What each key of a CA file entry must be, as written after `[0.key] must be`. */
const FILE_EXPECT: Record<string, string> = {
  name: 'a name of lower-case letters, digits and "-", at most 32',
  directoryUrl: 'a URL starting with https:// or http://',
  email: 'an e-mail address',
  kid: 'a key identifier',
  hmacKey: EAB_KEY_EXPECT,
  orders: BUCKET_EXPECT,
  registeredDomain: BUCKET_EXPECT,
  nameSet: BUCKET_EXPECT,
  failedAuthz: BUCKET_EXPECT,
  renewalBudget: BUCKET_EXPECT,
  visitorReserve: VISITOR_RESERVE.expect,
  profile: PROFILE_EXPECT,
};

const single = {
  ACME_DIRECTORY_URL: url(['https:', 'http:']).optional(),
  ACME_CA_BUNDLE: pemFile('CERTIFICATE').optional(),
  ACME_EMAIL: email().optional(),
  ACME_EAB_KID: pattern('a key identifier', /^\S+$/).optional(),
  ACME_EAB_HMAC_KEY: pattern(EAB_KEY_EXPECT, EAB_KEY, { echo: 'length' }).optional(),
  ACME_BUDGET_ORDERS: bucket().default(LETS_ENCRYPT_BUDGETS.orders),
  ACME_BUDGET_REGISTERED_DOMAIN: bucket().default(LETS_ENCRYPT_BUDGETS.registeredDomain),
  ACME_BUDGET_NAME_SET: bucket().default(LETS_ENCRYPT_BUDGETS.nameSet),
  ACME_BUDGET_FAILED_AUTHZ: bucket().default(LETS_ENCRYPT_BUDGETS.failedAuthz),
  ACME_VISITOR_RESERVE: field(VISITOR_RESERVE.expect, VISITOR_RESERVE.schema).default(String(VISITOR_RESERVE.default)),
  ACME_CAS_FILE: pattern('the path of a JSON file listing CAs', /^\S+$/).optional(),
  ACME_RENEWAL_BUDGET: bucket().optional(),
  ACME_PROFILE: pattern(PROFILE_EXPECT, PROFILE_NAME).optional(),
};

/** The variables this module reads (see unknown-variables.ts). */
export const CA_VARIABLES: readonly string[] = variableNamesOf(single);

const caFileEntry = z.object({
  name: z.string().regex(/^[a-z0-9-]{1,32}$/),
  directoryUrl: z.url({ protocol: /^https?$/ }),
  caBundleFile: z.string().optional(),
  email: z.email().optional(),
  eab: z.object({ kid: z.string().regex(/^\S+$/), hmacKey: z.string().regex(EAB_KEY) }).optional(),
  budgets: z
    .object({ orders: bucketText, registeredDomain: bucketText, nameSet: bucketText, failedAuthz: bucketText })
    .partial()
    .optional(),
  visitorReserve: VISITOR_RESERVE.schema.optional(),
  renewalBudget: bucketText.optional(),
  profile: z.string().regex(PROFILE_NAME).optional(),
});

const budgetsOf = (given: Partial<Record<keyof typeof LETS_ENCRYPT_BUDGETS, string>> = {}) => ({
  orders: parseBucketSpec(given.orders ?? LETS_ENCRYPT_BUDGETS.orders),
  registeredDomain: parseBucketSpec(given.registeredDomain ?? LETS_ENCRYPT_BUDGETS.registeredDomain),
  nameSet: parseBucketSpec(given.nameSet ?? LETS_ENCRYPT_BUDGETS.nameSet),
  failedAuthz: parseBucketSpec(given.failedAuthz ?? LETS_ENCRYPT_BUDGETS.failedAuthz),
});

/**
 * The CAs, in the order they are tried: one from ACME_DIRECTORY_URL and its siblings, or a
 * list from ACME_CAS_FILE (JSON array; see the README). Exactly one of the two must be set.
 */
export function loadCaConfigs(env: NodeJS.ProcessEnv): CaConfig[] {
  const e = parseEnv(single, env);
  if (e.ACME_CAS_FILE && e.ACME_DIRECTORY_URL) {
    throw new ConfigError(
      'ACME_CAS_FILE',
      'ACME_CAS_FILE and ACME_DIRECTORY_URL are both set: list every CA in the file, or use only ACME_DIRECTORY_URL',
    );
  }
  if (e.ACME_CAS_FILE) return loadCaFile(e.ACME_CAS_FILE);
  if (!e.ACME_DIRECTORY_URL) {
    throw new ConfigError(
      'ACME_DIRECTORY_URL',
      'ACME_DIRECTORY_URL is required: set it to the CA directory URL (or list CAs in ACME_CAS_FILE)',
    );
  }
  if ((e.ACME_EAB_KID === undefined) !== (e.ACME_EAB_HMAC_KEY === undefined)) {
    throw new ConfigError(
      'ACME_EAB_KID',
      'ACME_EAB_KID and ACME_EAB_HMAC_KEY go together: set both for a CA that requires external account binding, or neither',
    );
  }
  return [
    {
      name: 'default',
      directoryUrl: e.ACME_DIRECTORY_URL.href,
      caBundlePem: e.ACME_CA_BUNDLE?.pem,
      email: e.ACME_EMAIL,
      eab: e.ACME_EAB_KID && e.ACME_EAB_HMAC_KEY ? { kid: e.ACME_EAB_KID, hmacKey: e.ACME_EAB_HMAC_KEY } : undefined,
      budgets: {
        orders: e.ACME_BUDGET_ORDERS,
        registeredDomain: e.ACME_BUDGET_REGISTERED_DOMAIN,
        nameSet: e.ACME_BUDGET_NAME_SET,
        failedAuthz: e.ACME_BUDGET_FAILED_AUTHZ,
      },
      visitorReserve: e.ACME_VISITOR_RESERVE,
      renewalBudget: e.ACME_RENEWAL_BUDGET,
      profile: e.ACME_PROFILE,
    },
  ];
}

function loadCaFile(path: string): CaConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'ACME_CAS_FILE',
      `ACME_CAS_FILE must name a readable JSON file, got "${path}" (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // Only where: V8's message quotes the text around the fault, which may be an EAB key.
    throw new ConfigError(
      'ACME_CAS_FILE',
      `ACME_CAS_FILE "${path}" is not valid JSON${jsonErrorPlace(error, text)}: fix the file (see the README for its shape)`,
    );
  }
  const parsed = z.array(caFileEntry).min(1).safeParse(raw);
  if (!parsed.success) throw new ConfigError('ACME_CAS_FILE', `ACME_CAS_FILE "${path}"${fileIssue(raw, parsed.error.issues[0])}`);
  const names = parsed.data.map((ca) => ca.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate)
    throw new ConfigError('ACME_CAS_FILE', `ACME_CAS_FILE "${path}" names the CA "${duplicate}" twice: give each CA its own name`);
  return parsed.data.map((ca) => {
    let caBundlePem: string | undefined;
    if (ca.caBundleFile) {
      try {
        caBundlePem = readFileSync(ca.caBundleFile, 'utf8');
      } catch (error) {
        throw new ConfigError(
          'ACME_CAS_FILE',
          `ACME_CAS_FILE "${path}": CA "${ca.name}" caBundleFile "${ca.caBundleFile}" is unreadable (${(error as NodeJS.ErrnoException).code})`,
        );
      }
    }
    return {
      name: ca.name,
      directoryUrl: ca.directoryUrl,
      caBundlePem,
      email: ca.email,
      eab: ca.eab,
      budgets: budgetsOf(ca.budgets),
      visitorReserve: ca.visitorReserve ?? VISITOR_RESERVE.default,
      renewalBudget: ca.renewalBudget === undefined ? undefined : parseBucketSpec(ca.renewalBudget),
      profile: ca.profile,
    };
  });
}

/**
 * `[0.visitorReserve] must be a fraction from 0 to 0.9, e.g. 0.2, got 0.95`: the entry's key
 * and the same words as the variable's error. An EAB key's value is never shown.
 */
function fileIssue(raw: unknown, issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return ': invalid';
  const key = issue.path.at(-1);
  const expect = typeof key === 'string' ? FILE_EXPECT[key] : undefined;
  if (!expect) return `${issue.path.length ? `[${issue.path.join('.')}]` : ''}: ${issue.message}`;
  const value = issue.path.reduce<unknown>((node, step) => (node as Record<PropertyKey, unknown> | undefined)?.[step], raw);
  const shown = key === 'hmacKey' ? `a value of ${String(value).length} characters` : JSON.stringify(value);
  // A check's own words, as the variable's error gives them (`(not of that form)`).
  const detail = issue.code === 'custom' && key !== 'hmacKey' ? ` (${issue.message})` : '';
  return `[${issue.path.join('.')}] must be ${expect}, got ${shown}${detail}`;
}

/** ` at line L, column C` when the parser's message gives a position; else nothing. */
function jsonErrorPlace(error: unknown, text: string): string {
  const position = /position (\d+)/.exec((error as Error).message)?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position)).split('\n');
  return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
