import { requestIssuance, type IssueJobData, type IssueJobResult } from '@certfleet/queue';
import type { Store } from '@certfleet/store';
import type { Queue } from 'bullmq';
import type { HostnameEventSink } from './contract.js';
import type { DescribeStore } from './describe.js';

/** The parts of the store the service uses. */
export interface ServiceStore extends DescribeStore {
  allowlist: Pick<Store['allowlist'], 'add' | 'remove'>;
  nameStates: Pick<Store['nameStates'], 'clear'>;
  certificates: Pick<Store['certificates'], 'retire' | 'remove'>;
  hostnames: Pick<Store['hostnames'], 'get' | 'getMany' | 'putMany' | 'purge' | 'page' | 'expiring' | 'registered' | 'facts'>;
  issueRecords: Pick<Store['issueRecords'], 'clear'>;
  routes: Pick<Store['routes'], 'set' | 'remove'>;
  decisions: Pick<Store['decisions'], 'forget'>;
  audit: Pick<Store['audit'], 'append'>;
}

/** The dns policy's view of a name, for the hostname object's `dns`. */
export interface DnsObserver {
  /** The CNAME target customers point at (or the fleet's addresses when only those are configured). */
  cnameTarget: string;
  /** What the name points at now: each CNAME target in order, then the addresses at the end of the chain. */
  observe(name: string): Promise<string[]>;
}

/** Orders certificates ahead of visitors (`provision` jobs, priority 5). */
export interface Provisioner {
  provision(names: readonly string[], requestedAt: number): Promise<void>;
}

type IssueQueue = Queue<IssueJobData, IssueJobResult>;

export interface HostnameServiceDeps {
  store: ServiceStore;
  /** The `issue` queue (BullMQ), or anything that provisions names. */
  queue: IssueQueue | Provisioner;
  events?: HostnameEventSink | undefined;
  clock?: (() => number) | undefined;
  /** Names under these are refused, besides @certfleet/domain's defaults (FORBIDDEN_SUFFIXES). */
  forbiddenSuffixes?: readonly string[] | undefined;
  /** When the dns policy is on: where names should point, and what one points at now (shown by `get`). */
  dns?: DnsObserver | undefined;
  /** Where an event sink's failure is reported (it never fails the mutation). */
  logger?: { warn(details: object, message: string): void } | undefined;
}

/** Jobs added at once: each is one Lua script in BullMQ; more in flight only queue up in the socket. */
const ENQUEUE_CONCURRENCY = 500;

export function provisionerOf(queue: IssueQueue | Provisioner): Provisioner {
  if ('provision' in queue) return queue;
  return {
    async provision(names, requestedAt) {
      for (let i = 0; i < names.length; i += ENQUEUE_CONCURRENCY) {
        await Promise.all(
          names.slice(i, i + ENQUEUE_CONCURRENCY).map((name) => requestIssuance(queue, { name, reason: 'provision', requestedAt })),
        );
      }
    },
  };
}
