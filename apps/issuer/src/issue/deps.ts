import type { AcmeAccount, ChallengeResponder, KeyType } from '@certfleet/acme';
import type { TokenBuckets } from '@certfleet/budget';
import type { CaConfig } from '@certfleet/config';
import type { Logger } from '@certfleet/observability';
import type { DecisionService } from '@certfleet/policy';
import type { EdgeTarget } from './customer-detail.js';
import type {
  CertificateStore,
  NameStateStore,
  PauseStore,
  BudgetKeys,
  IssueRecordStore,
  RenewalIndex,
  RetirementKind,
  ServedNameStore,
} from '@certfleet/store';

/** What an issuance does with a CA's account: order, ask for renewal windows. */
export type OrderingAccount = Pick<AcmeAccount, 'issue' | 'renewalInfo' | 'supportsAri'>;

/** One CA as an issuance uses it (a `CaHandle` from ca-pool.ts is one). */
export interface IssuingCa {
  config: CaConfig;
  account(): Promise<OrderingAccount>;
}

/** The parts of the store an issuance reads and writes; the whole `Store` is one. */
export interface IssueStore {
  /** Bucket key names, for the CA budgets' claims. */
  budgetKeys: BudgetKeys;
  certificates: Pick<CertificateStore, 'get' | 'save' | 'reschedule' | 'retire'>;
  nameStates: Pick<NameStateStore, 'get' | 'markIssuing' | 'markActive' | 'markCooling' | 'markFailed' | 'noteError'>;
  pauses: Pick<PauseStore, 'caPause' | 'pauseCa' | 'blockIssuance'>;
  served: Pick<ServedNameStore, 'lastServed'>;
  renewals: Pick<RenewalIndex, 'scheduleAriPoll'>;
  /** What a customer can act on: failed validations, and the budget holding an order back. */
  issueRecords: Pick<IssueRecordStore, 'addValidationError' | 'hold'>;
}

export interface IssueJobDeps {
  store: IssueStore;
  /** The CA budgets, fleet-wide (`createTokenBuckets(redis)`). */
  budgets: Pick<TokenBuckets, 'takeAll'>;
  /** Tried in this order. */
  cas: readonly IssuingCa[];
  decisions: Pick<DecisionService, 'decide' | 'evaluate'>;
  responder: ChallengeResponder;
  keyTypes: readonly KeyType[];
  logger: Logger;
  clock: () => number;
  /** In [0, 1), as Math.random: spreads retry delays so that delayed jobs do not wake up together. */
  random: () => number;
  /**
   * Waits (bounded) until the job's claim — the job active under this issuer's lock, the name
   * marked issuing — is on a Redis replica, before any order: a failover then cannot hand the
   * same name to a second job and a second order. Default: no wait (one server).
   */
  claimDurable?: () => Promise<void>;
  /** Renew when this fraction of the lifetime remains. */
  renewFraction: number;
  /** A name no edge has served for this long is not renewed (retired as idle). */
  idleAfterMs: number;
  /** Where customers should point their names, named in validation errors (the dns policy's settings). */
  edgeTarget?: EdgeTarget | undefined;
  /** Told of each certificate retired at renewal (counted in the issuer's metrics). */
  onRetired?: (kind: RetirementKind) => void;
}
