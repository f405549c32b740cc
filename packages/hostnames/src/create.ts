import type { HostnameRecord } from '@certfleet/store';
import type { Actor } from './contract.js';
import type { HostnameServiceDeps, Provisioner } from './deps.js';
import { HostnameConflictError, type HostnameError } from './errors.js';
import { parseInput } from './input.js';
import { canonicalJson, checkedUpstream, normalName } from './names.js';
import { CreateHostnameBody } from './schema.js';

/** One create request, checked: its normalised name and the record it asks for. */
export interface CreateRequest {
  record: HostnameRecord;
  issue: boolean;
}

/** What to do with one create request given what exists. */
export type CreatePlan =
  | { kind: 'created'; request: CreateRequest }
  | { kind: 'unchanged'; request: CreateRequest }
  | { kind: 'error'; error: HostnameError; hostname: string | null };

/** Parses and checks one create body (an InvalidInputError naming the field otherwise). */
export function parseCreate(body: unknown, forbidden: readonly string[], now: number): CreateRequest {
  const { hostname, custom_metadata, upstream, issue } = parseInput(CreateHostnameBody, body, 'body');
  return {
    record: {
      name: normalName(hostname, forbidden),
      customMetadata: custom_metadata ?? null,
      upstream: upstream ? checkedUpstream(upstream) : null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    },
    issue: issue === true,
  };
}

const sameSettings = (a: HostnameRecord, b: HostnameRecord) =>
  canonicalJson(a.customMetadata) === canonicalJson(b.customMetadata) && (a.upstream ?? null) === (b.upstream ?? null);

/**
 * Idempotent create: a live name with the same settings is unchanged, with other settings a
 * conflict; a deleted (retired) name is created afresh.
 */
export function planCreate(request: CreateRequest, existing: HostnameRecord | null): CreatePlan {
  if (!existing || existing.deletedAt) return { kind: 'created', request };
  if (sameSettings(existing, request.record)) return { kind: 'unchanged', request: { ...request, record: existing } };
  return { kind: 'error', error: new HostnameConflictError(request.record.name), hostname: request.record.name };
}

/**
 * Writes what the plans create: registry records (and their indexes), the allowlist, routes,
 * then provisions the names asked for (new or unchanged), audits and publishes `hostname.created`.
 * Everything goes out in batches, so 10,000 names are a few round trips' worth of time.
 */
export async function applyCreates(
  plans: readonly CreatePlan[],
  actor: Actor,
  deps: HostnameServiceDeps,
  provisioner: Provisioner,
  now: number,
): Promise<void> {
  const { store } = deps;
  const created = plans.flatMap((plan) => (plan.kind === 'created' ? [plan.request] : []));
  const toIssue = plans.flatMap((plan) => (plan.kind !== 'error' && plan.request.issue ? [plan.request.record.name] : []));
  const names = created.map((request) => request.record.name);
  if (created.length > 0) {
    await store.hostnames.putMany(created.map((request) => request.record));
    for (let i = 0; i < names.length; i += 1_000) await store.allowlist.add(names.slice(i, i + 1_000));
    // A name refused a moment ago must not stay refused until its decision expires.
    await store.decisions.forget(names);
    await Promise.all(created.flatMap(({ record }) => (record.upstream ? [store.routes.set(record.name, record.upstream)] : [])));
    await store.audit.append(
      created.map(({ record }) => ({
        at: now,
        actorKind: actor.kind,
        actorId: actor.id,
        action: 'create',
        hostname: record.name,
        summary: summaryOf(record),
      })),
    );
  }
  if (toIssue.length > 0) await provisioner.provision(toIssue, now);
  await publishAll(deps, 'hostname.created', names, String(now));
}

function summaryOf(record: HostnameRecord): string {
  const parts = ['created'];
  if (record.upstream) parts.push(`upstream ${record.upstream}`);
  if (record.customMetadata) parts.push(`custom_metadata ${Buffer.byteLength(JSON.stringify(record.customMetadata))} bytes`);
  return parts.join(', ');
}

/** Publishes one event per name; a sink that fails is logged, never the caller's failure. */
export async function publishAll(
  deps: HostnameServiceDeps,
  type: 'hostname.created' | 'hostname.deleted' | 'certificate.retired',
  names: readonly string[],
  key: string,
): Promise<void> {
  const events = deps.events;
  if (!events) return;
  await Promise.all(
    names.map(async (name) => {
      try {
        await events.publish(type, name, key);
      } catch (error) {
        deps.logger?.warn(
          { domain: name, event: type, err: error instanceof Error ? error.message : String(error) },
          'event not published',
        );
      }
    }),
  );
}
