import { X509Certificate } from 'node:crypto';
import acme from 'acme-client';
import { clampRetryAfter, type RenewalWindow } from './ari.js';
import { isNetworkError, PROBLEM_PREFIX } from './classify.js';
import { AcmeProblemError, AcmeValidationError, authorizationProblems, type ChallengeProblem, parseRetryAfter } from './problem.js';

/** One pending challenge, as a responder needs it. */
export interface PendingChallenge {
  /** The name being validated. */
  domain: string;
  token: string;
  keyAuthorization: string;
  /** The authorization (tls-alpn-01 builds its certificate from it). */
  authorization: acme.Authorization;
}

/**
 * Makes the CA's validation succeed wherever it connects: http-01 serves the key authorization
 * at /.well-known/acme-challenge/TOKEN, tls-alpn-01 a certificate on the TLS port for ALPN
 * acme-tls/1.
 */
export interface ChallengeResponder {
  readonly type: 'http-01' | 'tls-alpn-01';
  present(challenge: PendingChallenge): Promise<void>;
  remove(challenge: PendingChallenge): Promise<void>;
}

export type KeyType = 'ecdsa' | 'rsa';

export interface IssuedCertificate {
  keyType: KeyType;
  names: string[];
  chainPem: string;
  keyPem: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  issuer: string;
}

export interface AcmeAccountOptions {
  directoryUrl: string;
  /** The fleet's shared account key (PEM); see the store's first-writer-wins record. */
  accountKeyPem: string;
  /** Known account URL; when absent, the account is created or looked up by its key. */
  accountUrl?: string | null;
  email?: string | undefined;
  /** External account binding, for CAs that require one. */
  eab?: { kid: string; hmacKey: string } | undefined;
  /**
   * Polling while the CA validates: acme-client starts at 5 s, far too slow for a handshake that
   * waits. Pebble answers in milliseconds; Let's Encrypt in about a second.
   */
  poll?: { minMs: number; maxMs: number; attempts: number };
  /** The least time before renewalInfo is asked again, whatever the CA's Retry-After (default a minute). */
  ariMinRetryMs?: number | undefined;
}

/**
 * One ACME account at one CA: orders certificates, each answered by the responder's challenge
 * type (http-01 or tls-alpn-01), with an ECDSA P-256 or RSA 2048 key per order.
 */
export class AcmeAccount {
  private directory: Promise<Record<string, unknown>> | undefined;

  private constructor(
    private readonly client: acme.Client,
    readonly directoryUrl: string,
    readonly accountUrl: string,
    private readonly ariMinRetryMs: number | undefined,
  ) {}

  /** Whether the CA's directory has `renewalInfo` (RFC 9773). */
  async supportsAri(): Promise<boolean> {
    return typeof (await this.readDirectory()).renewalInfo === 'string';
  }

  /**
   * The profiles the CA's directory lists in `meta.profiles` (draft-aaron-acme-profiles), by
   * name with their descriptions; empty when it lists none.
   */
  async profiles(): Promise<Record<string, string>> {
    const meta = (await this.readDirectory()).meta as { profiles?: unknown } | undefined;
    const listed = meta?.profiles;
    if (!listed || typeof listed !== 'object') return {};
    return Object.fromEntries(Object.entries(listed as Record<string, unknown>).map(([name, text]) => [name, String(text)]));
  }

  /** The CA's suggested renewal window for a certificate, or null when the CA offers no ARI. */
  async renewalInfo(certificateId: string): Promise<RenewalWindow | null> {
    const base = (await this.readDirectory()).renewalInfo;
    if (typeof base !== 'string') return null;
    const answer = await acme.axios.get(`${base.replace(/\/$/, '')}/${certificateId}`);
    const body = answer.data as { suggestedWindow?: { start?: string; end?: string }; explanationURL?: string };
    const start = Date.parse(body.suggestedWindow?.start ?? '');
    const end = Date.parse(body.suggestedWindow?.end ?? '');
    if (Number.isNaN(start) || Number.isNaN(end) || end < start) return null;
    const retryAfter = answer.headers['retry-after'];
    return {
      start,
      end,
      retryAfterMs: clampRetryAfter(
        parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : String(retryAfter ?? ''), Date.now()),
        this.ariMinRetryMs,
      ),
      explanationUrl: body.explanationURL,
    };
  }

  /**
   * What the CA recorded on `domain`'s failed authorization: asked again (acme-client's error
   * holds the document only as text). Nothing when that read fails too: the caller's error stands.
   */
  private async validationProblems(order: acme.Order, domain: string): Promise<ChallengeProblem[]> {
    try {
      const authorizations = await this.client.getAuthorizations(order);
      return authorizationProblems(authorizations.find((a) => a.identifier.value === domain));
    } catch {
      return [];
    }
  }

  private readDirectory(): Promise<Record<string, unknown>> {
    this.directory ??= acme.axios.get(this.directoryUrl).then((answer) => answer.data as Record<string, unknown>);
    return this.directory;
  }

  /**
   * Opens the account. Registering is idempotent for a given key (the CA answers with the
   * existing account), so any number of issuers may do this at once.
   */
  static async open(options: AcmeAccountOptions): Promise<AcmeAccount> {
    // 20 ms, doubling to 1 s: a few more polls per order at a slow CA, a quick answer at a fast one.
    const poll = options.poll ?? { minMs: 20, maxMs: 1_000, attempts: 60 };
    const client = new acme.Client({
      directoryUrl: options.directoryUrl,
      accountKey: options.accountKeyPem,
      ...(options.accountUrl ? { accountUrl: options.accountUrl } : {}),
      ...(options.eab ? { externalAccountBinding: { kid: options.eab.kid, hmacKey: options.eab.hmacKey } } : {}),
      backoffMin: poll.minMs,
      backoffMax: poll.maxMs,
      backoffAttempts: poll.attempts,
    });
    if (!options.accountUrl) {
      try {
        await client.createAccount({
          termsOfServiceAgreed: true,
          ...(options.email ? { contact: [`mailto:${options.email}`] } : {}),
        });
      } catch (error) {
        // When another issuer registered the same key a moment earlier, the CA answers 200 with
        // the account's URL and acme-client follows with an account update that some CAs
        // (Pebble) refuse as empty. The account exists and its URL is known: carry on.
        if (!hasAccountUrl(client)) throw error;
      }
    }
    return new AcmeAccount(client, options.directoryUrl, client.getAccountUrl(), options.ariMinRetryMs);
  }

  /**
   * Orders one certificate for `names` (the first is the common name) with a new key of
   * `keyType`, and returns it with the key. Challenge answers are removed whatever happens.
   */
  async issue(
    names: readonly string[],
    responder: ChallengeResponder,
    keyType: KeyType = 'ecdsa',
    options: { replaces?: string | undefined; profile?: string | undefined } = {},
  ): Promise<IssuedCertificate> {
    const [commonName] = names;
    if (!commonName) throw new TypeError('issue() needs at least one name');
    const identifiers = names.map((value) => ({ type: 'dns', value }));
    // draft-aaron-acme-profiles: a CA refuses a profile it does not list; ask only for a listed one.
    const profile = options.profile && options.profile in (await this.profiles()) ? { profile: options.profile } : {};
    let order: acme.Order;
    try {
      // RFC 9773: `replaces` names the certificate this order renews (exempt from Let's Encrypt's limits).
      order = await this.client.createOrder({
        identifiers,
        ...profile,
        ...(options.replaces ? { replaces: options.replaces } : {}),
      } as Parameters<acme.Client['createOrder']>[0]);
    } catch (error) {
      // 409 alreadyReplaced: another order already renews it; order without the claim.
      if (!options.replaces || !(error instanceof AcmeProblemError) || (error.status !== 409 && !error.type.endsWith(':alreadyReplaced')))
        throw error;
      order = await this.client.createOrder({ identifiers, ...profile } as Parameters<acme.Client['createOrder']>[0]);
    }
    const authorizations = await this.client.getAuthorizations(order);
    const presented: PendingChallenge[] = [];
    try {
      await Promise.all(
        authorizations.map(async (authorization) => {
          if (authorization.status === 'valid') return;
          const domain = authorization.identifier.value;
          const challenge = authorization.challenges.find((c) => c.type === responder.type);
          if (!challenge) {
            const offered = authorization.challenges.map((c) => c.type).join(', ');
            throw new AcmeValidationError(domain, `the CA offered no ${responder.type} challenge (offered: ${offered})`);
          }
          const pending: PendingChallenge = {
            domain,
            token: challenge.token,
            keyAuthorization: await this.client.getChallengeKeyAuthorization(challenge),
            authorization,
          };
          await responder.present(pending);
          presented.push(pending);
          await this.client.completeChallenge(challenge);
          try {
            await this.client.waitForValidStatus(authorization);
          } catch (error) {
            // The CA itself failing (a problem answer, no answer at all) is not the name's fault.
            if (error instanceof AcmeProblemError || isNetworkError(error)) throw error;
            const problems = await this.validationProblems(order, domain);
            const detail = problems.map((p) => `${p.type.replace(PROBLEM_PREFIX, '')}: ${p.detail ?? 'no detail'}`).join('; ');
            throw new AcmeValidationError(domain, detail || (error as Error).message, { cause: error, problems });
          }
        }),
      );
      const key = keyType === 'rsa' ? await acme.crypto.createPrivateRsaKey(2048) : await acme.crypto.createPrivateEcdsaKey('P-256');
      const [keyBuffer, csr] = await acme.crypto.createCsr({ commonName, altNames: [...names] }, key);
      const finalized = await this.client.finalizeOrder(order, csr);
      const chainPem = await this.client.getCertificate(finalized);
      return { ...describeCertificate(chainPem), keyType, chainPem, keyPem: keyBuffer.toString() };
    } finally {
      await Promise.allSettled(presented.map((pending) => responder.remove(pending)));
    }
  }
}

function hasAccountUrl(client: acme.Client): boolean {
  try {
    return Boolean(client.getAccountUrl());
  } catch {
    return false;
  }
}

/** Reads what certfleet needs from the leaf of a PEM chain. */
export function describeCertificate(chainPem: string) {
  const leaf = new X509Certificate(chainPem);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(leaf.issuer)?.[1];
  return {
    names: (leaf.subjectAltName ?? '')
      .split(', ')
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4)),
    serial: leaf.serialNumber.toUpperCase(),
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    issuer: cn ?? leaf.issuer.replace(/\n/g, ', '),
  };
}

/** A new ECDSA P-256 account key, PEM. */
export async function createAccountKey(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
}

/**
 * The tls-alpn-01 answer for a pending challenge: a self-signed certificate for the name with
 * the acmeIdentifier extension, on an ECDSA P-256 key (the edge's default certificate is ECDSA,
 * and one key type throughout is what works with Node's ALPN callback).
 */
export async function createAlpnChallengeCertificate(challenge: PendingChallenge): Promise<{ certPem: string; keyPem: string }> {
  const key = await acme.crypto.createPrivateEcdsaKey('P-256');
  const [keyPem, certPem] = await acme.crypto.createAlpnCertificate(challenge.authorization, challenge.keyAuthorization, key);
  return { certPem: certPem.toString(), keyPem: keyPem.toString() };
}
