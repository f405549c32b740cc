import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { getPublicSuffix } from 'tldts';

/** Why a name was refused; one value per rule so callers can count and explain refusals. */
export type HostnameRule =
  | 'empty'
  | 'not-text'
  | 'ip-literal'
  | 'wildcard'
  | 'bad-characters'
  | 'idna'
  | 'too-long'
  | 'label-length'
  | 'label-hyphen'
  | 'single-label'
  | 'public-suffix'
  | 'forbidden-suffix';

export type HostnameCheck = { ok: true; name: string } | { ok: false; rule: HostnameRule; reason: string };

/** Suffixes that never belong to a customer and must never reach a public CA. */
export const DEFAULT_FORBIDDEN_SUFFIXES: readonly string[] = ['localhost', 'local', 'localdomain', 'internal', 'invalid', 'home.arpa'];

export interface HostnameOptions {
  /** Names equal to or under any of these are refused (e.g. the fleet's own names). */
  forbiddenSuffixes?: readonly string[];
}

const LABEL = /^[a-z0-9-]+$/;

const refuse = (rule: HostnameRule, reason: string): HostnameCheck => ({ ok: false, rule, reason });

/**
 * The one normaliser for every name that enters certfleet (SNI, Host, CLI): lower case, trailing
 * dot removed, IDNA (UTS-46) to punycode, then checked as a DNS host name a public CA can issue
 * for. Pure and fast: it runs on the handshake path.
 */
export function checkHostname(input: unknown, options: HostnameOptions = {}): HostnameCheck {
  if (typeof input !== 'string') return refuse('not-text', 'the name is not text');
  if (input.length === 0) return refuse('empty', 'the name is empty');
  if (input.length > 1024) return refuse('too-long', 'the name is longer than 253 octets');
  let name = input.endsWith('.') ? input.slice(0, -1) : input;
  if (name.length === 0) return refuse('empty', 'the name is empty');
  if (name.startsWith('[') || isIP(name) !== 0 || /^(0x[0-9a-f]+|\d+)$/i.test(name)) {
    return refuse('ip-literal', 'an IP address is not a host name');
  }
  if (name.includes('*')) return refuse('wildcard', 'wildcard names are not issued on demand');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control bytes is the point
  if (/[\s\x00-\x1f\x7f_/\\:@?#%]/.test(name)) {
    return refuse('bad-characters', 'a host name has only letters, digits, hyphens and dots');
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: any byte outside ASCII
  if (/[^\x00-\x7f]/.test(name) || /(^|\.)xn--/i.test(name)) {
    const ascii = domainToASCII(name);
    if (ascii === '' || !punycodeRoundTrips(ascii)) return refuse('idna', 'the name is not a valid internationalised domain name');
    name = ascii;
  }
  name = name.toLowerCase();
  if (name.length > 253) return refuse('too-long', 'the name is longer than 253 octets');
  const labels = name.split('.');
  if (labels.length < 2) return refuse('single-label', 'a single-label name cannot get a public certificate');
  for (const label of labels) {
    if (label.length < 1 || label.length > 63) return refuse('label-length', 'each label must have 1 to 63 characters');
    if (!LABEL.test(label)) return refuse('bad-characters', 'a host name has only letters, digits, hyphens and dots');
    if (label.startsWith('-') || label.endsWith('-')) {
      return refuse('label-hyphen', 'a label may not start or end with a hyphen');
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) {
    return refuse('ip-literal', 'an all-numeric top-level label reads as an IP address');
  }
  const forbidden = options.forbiddenSuffixes ?? DEFAULT_FORBIDDEN_SUFFIXES;
  for (const suffix of forbidden) {
    if (name === suffix || name.endsWith(`.${suffix}`)) {
      return refuse('forbidden-suffix', `names under "${suffix}" are not issued`);
    }
  }
  // Private suffixes too (github.io, herokuapp.com): the platform owns them, not a customer.
  if (getPublicSuffix(name, { allowPrivateDomains: true }) === name) {
    return refuse('public-suffix', 'a public suffix belongs to no single customer');
  }
  return { ok: true, name };
}

/** A name given by a person or another system (CLI, API) that cannot be used, and why. */
export class InvalidDomainError extends Error {
  override readonly name = 'InvalidDomainError';
  constructor(
    readonly input: string,
    readonly rule: HostnameRule,
    reason: string,
  ) {
    super(`"${input}" is not a valid domain name: ${reason}`);
  }
}

/** {@link checkHostname} for trusted call sites: returns the normalised name or throws. */
export function normalizeHostname(input: string, options: HostnameOptions = {}): string {
  const check = checkHostname(input, options);
  if (!check.ok) throw new InvalidDomainError(input, check.rule, check.reason);
  return check.name;
}

/**
 * An allowlist entry: an exact host name, or `*.suffix` for every name below the suffix. The
 * suffix must itself be a name a customer can own (not a public suffix such as `*.com`).
 */
export function checkAllowlistEntry(input: string, options: HostnameOptions = {}): HostnameCheck {
  const wildcard = input.startsWith('*.');
  const check = checkHostname(wildcard ? input.slice(2) : input, options);
  if (!check.ok || !wildcard) return check;
  return { ok: true, name: `*.${check.name}` };
}

/**
 * Whether every `xn--` label decodes to Unicode and encodes back to itself. Node 20's
 * domainToASCII refused an undecodable label (`xn--a`) itself; Node 24's (ada) passes it
 * through, so the edge checks the round trip: a CA refuses such a name, and it must not cost an
 * order.
 */
function punycodeRoundTrips(ascii: string): boolean {
  for (const label of ascii.split('.')) {
    if (!label.toLowerCase().startsWith('xn--')) continue;
    const unicode = domainToUnicode(label);
    if (unicode === '' || unicode.toLowerCase() === label.toLowerCase()) return false;
    if (domainToASCII(unicode).toLowerCase() !== label.toLowerCase()) return false;
  }
  return true;
}
