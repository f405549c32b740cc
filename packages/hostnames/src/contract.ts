import type { BulkItemResult, CreateHostnameBody, HostnameObject, HostnameStatus, UpdateHostnameBody } from './schema.js';

/** Who asks for a change, for the audit stream: an API token (by its id) or the CLI (by the user). */
export interface Actor {
  kind: 'api' | 'cli';
  /** An API token's id (first 8 hex digits of its SHA-256), or the CLI's user: never a secret. */
  id: string;
}

export type HostnameEventType =
  | 'hostname.created'
  | 'hostname.deleted'
  | 'certificate.issued'
  | 'certificate.renewed'
  | 'certificate.failed'
  | 'certificate.retired'
  | 'certificate.expiring';

/**
 * Implemented by @certfleet/webhooks; the service calls it after create and delete. It must never
 * throw into the caller's path (log and continue). `key` makes the event id stable for
 * deduplication (a serial, a notAfter).
 */
export interface HostnameEventSink {
  publish(type: HostnameEventType, hostname: string, key?: string): Promise<void>;
}

export interface ListOptions {
  cursor?: string | undefined;
  limit?: number | undefined;
  status?: HostnameStatus | undefined;
  /** ms since epoch. */
  expiring_before?: number | undefined;
  q?: string | undefined;
}

export interface HostnamePage {
  hostnames: HostnameObject[];
  /** Pass back as `cursor` for the next page; null when there is none. */
  next_cursor: string | null;
}

/** `created` is false when the same body was sent again for an existing name (idempotent). */
export interface CreateResult {
  hostname: HostnameObject;
  created: boolean;
}

/**
 * The one hostname service the API and the CLI share. Every mutation is audited with its actor;
 * errors are typed (see errors.ts), never to be told apart by their message.
 */
export interface HostnameService {
  create(body: CreateHostnameBody, actor: Actor): Promise<CreateResult>;
  /** Up to MAX_BULK_ITEMS items, each validated and answered on its own. */
  bulkCreate(items: readonly unknown[], actor: Actor): Promise<BulkItemResult[]>;
  get(hostname: string): Promise<HostnameObject>;
  list(options: ListOptions): Promise<HostnamePage>;
  update(hostname: string, body: UpdateHostnameBody, actor: Actor): Promise<HostnameObject>;
  /** Off the allowlist and retired (its certificate is served until it expires); `purge` removes everything now. */
  remove(hostname: string, options: { purge?: boolean | undefined }, actor: Actor): Promise<HostnameObject | null>;
  /** Clears a cool-down or failure and enqueues an order. */
  retry(hostname: string, actor: Actor): Promise<HostnameObject>;
}
