import { getDomain } from 'tldts';
import { AcmeAccount, createAccountKey } from '@certfleet/acme';
import type { BudgetClaim } from '@certfleet/budget';
import { redactUrl, type CaConfig } from '@certfleet/config';
import type { Logger } from '@certfleet/observability';
import type { IssueReason } from '@certfleet/queue';
import type { BudgetKeys, Store } from '@certfleet/store';

/** One CA as an issuer uses it: its configuration and its account, opened on first use. */
export interface CaHandle {
  config: CaConfig;
  account(): Promise<AcmeAccount>;
}

/**
 * The CAs in the order they are tried. Accounts open lazily (a CA that is down at start-up
 * does not stop the issuer) and again after a failure to open.
 */
export function createCaPool(
  cas: readonly CaConfig[],
  deps: { store: Store; logger: Logger; ariMinRetryMs?: number | undefined },
): CaHandle[] {
  return cas.map((config) => {
    let opening: Promise<AcmeAccount> | undefined;
    const open = async () => {
      const record = await deps.store.secrets.account(config.directoryUrl, createAccountKey);
      const account = await AcmeAccount.open({
        directoryUrl: config.directoryUrl,
        accountKeyPem: record.keyPem,
        accountUrl: record.url,
        email: config.email,
        eab: config.eab,
        ariMinRetryMs: deps.ariMinRetryMs,
      });
      if (!record.url) await deps.store.secrets.setAccountUrl(config.directoryUrl, account.accountUrl);
      deps.logger.info({ ca: config.name, directory: redactUrl(config.directoryUrl), account: account.accountUrl }, 'ACME account ready');
      if (config.profile) await checkProfile(config, account, deps.logger);
      return account;
    };
    return {
      config,
      account() {
        opening ??= open().catch((error: unknown) => {
          opening = undefined;
          throw error;
        });
        return opening;
      },
    };
  });
}

/**
 * Says at once (the first CA's account opens at start-up) when the configured profile is one the
 * CA does not list: orders then go without a profile, and the certificates get the CA's default.
 */
async function checkProfile(config: CaConfig, account: AcmeAccount, logger: Logger): Promise<void> {
  const listed = Object.keys(await account.profiles());
  if (config.profile && listed.includes(config.profile)) {
    logger.info({ ca: config.name, profile: config.profile }, 'ACME profile available');
    return;
  }
  logger.error(
    {
      ca: config.name,
      profile: config.profile,
      listed,
      hint:
        `CA "${config.name}" does not list the ACME profile "${config.profile}" in its directory (it lists: ${listed.join(', ') || 'none'}); ` +
        'set ACME_PROFILE (or "profile" in ACME_CAS_FILE) to one it lists, or unset it',
    },
    'ACME profile not offered by the CA; orders go without a profile',
  );
}

/**
 * The budgets one order for `names` at `ca` draws on, mirroring the CA's own limits: orders
 * per account, certificates per registered domain and per exact set of names. Orders keep a
 * reserve only a waiting visitor may use, so renewals and bulk imports cannot starve visitors.
 * Renewals (not ARI-exempt; exempt ones claim nothing) also take from the CA's renewal budget.
 */
export function orderClaims(ca: CaConfig, store: { budgetKeys: BudgetKeys }, names: readonly string[], reason: IssueReason): BudgetClaim[] {
  const keys = store.budgetKeys;
  const { budgets } = ca;
  const reserve = reason === 'visitor' ? 0 : Math.ceil(budgets.orders.capacity * ca.visitorReserve);
  const domains = [...new Set(names.map((name) => getDomain(name) ?? name))];
  // Renewals that reach here are not ARI-exempt: they also draw on their own share, so a backlog drains at its pace.
  const renewalShare: BudgetClaim[] =
    reason === 'renewal' && ca.renewalBudget ? [{ key: keys.caRenewals(ca.name), spec: ca.renewalBudget }] : [];
  return [
    ...renewalShare,
    { key: keys.caOrders(ca.name), spec: budgets.orders, floor: reserve },
    ...domains.map((domain) => ({ key: keys.registeredDomain(ca.name, domain), spec: budgets.registeredDomain })),
    { key: keys.nameSet(ca.name, names), spec: budgets.nameSet },
  ];
}

/** The failed-authorization budget of one name at one CA, taken when a validation fails. */
export function failedAuthzClaim(ca: CaConfig, store: { budgetKeys: BudgetKeys }, name: string): BudgetClaim {
  return { key: store.budgetKeys.failedAuthz(ca.name, name), spec: ca.budgets.failedAuthz };
}
