import { z } from 'zod';

/**
 * The hostname object and the API's request shapes, as zod schemas: the API validates requests
 * with them and generates its OpenAPI document from them (`z.toJSONSchema`), so the document
 * cannot drift from what is accepted. Times are ISO 8601 strings everywhere.
 */

/** Where a customer's hostname stands: waiting for its first certificate, served, failing, or deleted. */
export const HostnameStatus = z.enum(['pending', 'active', 'failed', 'retired']).meta({ id: 'HostnameStatus' });
export type HostnameStatus = z.infer<typeof HostnameStatus>;
export const HOSTNAME_STATUSES: readonly HostnameStatus[] = HostnameStatus.options;

/** Where its certificate stands: none yet, first order in flight, served, served while a renewal runs, expired. */
export const CertificateStatus = z.enum(['none', 'issuing', 'active', 'renewing', 'expired']).meta({ id: 'CertificateStatus' });
export type CertificateStatus = z.infer<typeof CertificateStatus>;

const isoTime = z.iso.datetime();

export const ValidationError = z
  .object({
    at: isoTime,
    /** An ACME problem type (`urn:ietf:params:acme:error:connection`) or a certfleet one (`certfleet:budget`). */
    type: z.string(),
    /** What went wrong and what the customer should do about it. */
    detail: z.string(),
  })
  .meta({ id: 'ValidationError' });
export type ValidationError = z.infer<typeof ValidationError>;

export const CertificateObject = z
  .object({
    status: CertificateStatus,
    serial: z.string().nullable(),
    not_before: isoTime.nullable(),
    not_after: isoTime.nullable(),
    issuer: z.string().nullable(),
    /** `ecdsa`, and `rsa` when an RSA twin is served to clients without ECDSA. */
    key_types: z.array(z.string()),
    renewal_at: isoTime.nullable(),
    /** When the certificate now served was obtained (first issued or last renewed). */
    last_renewed_at: isoTime.nullable(),
  })
  .meta({ id: 'Certificate' });

/** A CA budget that holds the name's order back: which one, and until when it refills enough. */
export const BudgetHold = z.object({ budget: z.string(), until: isoTime }).meta({ id: 'BudgetHold' });
export type BudgetHold = z.infer<typeof BudgetHold>;

export const CustomMetadata = z.record(z.string(), z.unknown());

export const HostnameObject = z
  .object({
    hostname: z.string(),
    status: HostnameStatus,
    certificate: CertificateObject,
    validation_errors: z.array(ValidationError),
    hold: BudgetHold.nullable().optional(),
    /** Only when the dns policy is on: where the name should point, and what it pointed at when last looked up. */
    dns: z.object({ cname_target: z.string(), observed: z.array(z.string()) }).optional(),
    cooldown_until: isoTime.nullable(),
    custom_metadata: CustomMetadata.nullable(),
    upstream: z.string().nullable(),
    created_at: isoTime.nullable(),
    updated_at: isoTime.nullable(),
  })
  .meta({ id: 'Hostname' });
export type HostnameObject = z.infer<typeof HostnameObject>;

/** custom_metadata is stored with the name: keep it small (Cloudflare allows 4 KiB too). */
export const MAX_METADATA_BYTES = 4_096;
export const MAX_BULK_ITEMS = 10_000;
export const MAX_PAGE_SIZE = 1_000;
export const DEFAULT_PAGE_SIZE = 100;

const metadata = CustomMetadata.refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_METADATA_BYTES, {
  message: `custom_metadata must be at most ${MAX_METADATA_BYTES} bytes as JSON`,
});

export const CreateHostnameBody = z
  .strictObject({
    hostname: z.string().min(1).max(1024),
    custom_metadata: metadata.nullable().optional(),
    /** An http(s) URL that traffic for this name goes to instead of UPSTREAM_URL. */
    upstream: z.string().max(2048).nullable().optional(),
    /** Order the certificate now (pre-provisioning) instead of at the first visitor. */
    issue: z.boolean().optional(),
  })
  .meta({ id: 'CreateHostname' });
export type CreateHostnameBody = z.infer<typeof CreateHostnameBody>;

export const UpdateHostnameBody = z
  .strictObject({
    custom_metadata: metadata.nullable().optional(),
    upstream: z.string().max(2048).nullable().optional(),
    /** Clears a cool-down or a failure and orders again. */
    retry: z.literal(true).optional(),
  })
  .meta({ id: 'UpdateHostname' });
export type UpdateHostnameBody = z.infer<typeof UpdateHostnameBody>;

export const BulkCreateBody = z
  .strictObject({ hostnames: z.array(z.unknown()).min(1).max(MAX_BULK_ITEMS) })
  .meta({ id: 'BulkCreate', description: `Up to ${MAX_BULK_ITEMS} CreateHostname items; each is validated on its own.` });

export const BulkItemResult = z
  .object({
    hostname: z.string().nullable(),
    /** `created`, `unchanged` (same body again), or `error`. */
    result: z.enum(['created', 'unchanged', 'error']),
    error: z.object({ type: z.string(), detail: z.string() }).optional(),
  })
  .meta({ id: 'BulkItemResult' });
export type BulkItemResult = z.infer<typeof BulkItemResult>;

export const ListQuery = z
  .strictObject({
    cursor: z.string().max(2048).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    status: HostnameStatus.optional(),
    /** Certificates expiring before this time (ISO 8601), soonest first. */
    expiring_before: isoTime.optional(),
    /** Names starting with this prefix. */
    q: z.string().max(253).optional(),
  })
  .meta({ id: 'ListQuery' });
export type ListQuery = z.infer<typeof ListQuery>;

export const HostnamePage = z
  .object({ hostnames: z.array(HostnameObject), next_cursor: z.string().nullable() })
  .meta({ id: 'HostnamePage' });
