import type { HostnameRecord } from '@certfleet/store';
import type { Actor, HostnameService } from './contract.js';
import { applyCreates, type CreatePlan, parseCreate, planCreate, publishAll } from './create.js';
import { type HostnameServiceDeps, provisionerOf } from './deps.js';
import { describeHostname } from './describe.js';
import { HostnameError, HostnameNotFoundError, InvalidInputError } from './errors.js';
import { parseInput } from './input.js';
import { listHostnames } from './list.js';
import { checkedUpstream, normalName } from './names.js';
import { type BulkItemResult, type HostnameObject, MAX_BULK_ITEMS, UpdateHostnameBody } from './schema.js';

export type { DnsObserver, HostnameServiceDeps, Provisioner, ServiceStore } from './deps.js';

/**
 * The hostname service the API and the CLI share (see {@link HostnameService}). Names are
 * normalised by @certfleet/domain's one validator; every mutation is audited; events go to the
 * optional sink and never fail a mutation.
 */
export function createHostnameService(deps: HostnameServiceDeps): HostnameService {
  const clock = deps.clock ?? Date.now;
  const forbidden = deps.forbiddenSuffixes ?? [];
  const provisioner = provisionerOf(deps.queue);
  const { store } = deps;

  const describe = async (name: string): Promise<HostnameObject> => {
    const object = await describeHostname(store, name, clock());
    if (!object) throw new HostnameNotFoundError(name);
    return object;
  };

  /** The live (not deleted) record of a registered name, or not found. */
  const live = async (input: string): Promise<HostnameRecord> => {
    const name = normalName(input, forbidden);
    const record = await store.hostnames.get(name);
    if (!record || record.deletedAt) throw new HostnameNotFoundError(name);
    return record;
  };

  const audit = (actor: Actor, action: string, hostname: string, summary: string) =>
    store.audit.append([{ at: clock(), actorKind: actor.kind, actorId: actor.id, action, hostname, summary }]);

  async function retryName(name: string, actor: Actor): Promise<void> {
    // Clears a cool-down or failure (the name's state) and orders at once.
    await store.nameStates.clear(name);
    await store.decisions.forget([name]);
    await provisioner.provision([name], clock());
    await audit(actor, 'retry', name, 'cleared cool-down/failure and enqueued an order');
  }

  return {
    async create(body, actor) {
      const now = clock();
      const request = parseCreate(body, forbidden, now);
      const plan = planCreate(request, await store.hostnames.get(request.record.name));
      if (plan.kind === 'error') throw plan.error;
      await applyCreates([plan], actor, deps, provisioner, now);
      return { hostname: await describe(request.record.name), created: plan.kind === 'created' };
    },

    async bulkCreate(items, actor) {
      if (items.length > MAX_BULK_ITEMS) {
        throw new InvalidInputError('hostnames', `hostnames has ${items.length} items; send at most ${MAX_BULK_ITEMS} per call`);
      }
      const now = clock();
      const parsed = items.map((item) => {
        try {
          return parseCreate(item, forbidden, now);
        } catch (error) {
          if (error instanceof HostnameError) return error;
          throw error;
        }
      });
      const names = parsed.flatMap((item) => (item instanceof HostnameError ? [] : [item.record.name]));
      const existing = new Map((await store.hostnames.getMany(names)).map((record, i) => [names[i] as string, record]));
      const plans: CreatePlan[] = parsed.map((item, i) => {
        if (item instanceof HostnameError) return { kind: 'error', error: item, hostname: inputName(items[i]) };
        const plan = planCreate(item, existing.get(item.record.name) ?? null);
        // The same name twice in one call: the second is judged against the first.
        if (plan.kind === 'created') existing.set(item.record.name, item.record);
        return plan;
      });
      await applyCreates(plans, actor, deps, provisioner, now);
      return plans.map((plan): BulkItemResult => {
        if (plan.kind === 'error') {
          return { hostname: plan.hostname, result: 'error', error: { type: plan.error.type, detail: plan.error.message } };
        }
        return { hostname: plan.request.record.name, result: plan.kind };
      });
    },

    async get(input) {
      const object = await describe(normalName(input, forbidden));
      if (!deps.dns) return object;
      // One look at DNS for one hostname (bounded by the resolver's timeout); never for a list page.
      const observed = await deps.dns.observe(object.hostname).catch(() => []);
      return { ...object, dns: { cname_target: deps.dns.cnameTarget, observed } };
    },

    list: (options) => listHostnames(store, options, clock()),

    async update(input, body, actor) {
      const record = await live(input);
      const change = parseInput(UpdateHostnameBody, body, 'body');
      const changed: string[] = [];
      const next: HostnameRecord = { ...record, updatedAt: clock() };
      if (change.custom_metadata !== undefined) {
        next.customMetadata = change.custom_metadata;
        changed.push('custom_metadata');
      }
      if (change.upstream !== undefined) {
        next.upstream = change.upstream === null ? null : checkedUpstream(change.upstream);
        changed.push(`upstream ${next.upstream ?? 'removed'}`);
      }
      if (changed.length > 0) {
        await store.hostnames.putMany([next]);
        if (change.upstream !== undefined) {
          if (next.upstream) await store.routes.set(record.name, next.upstream);
          else await store.routes.remove(record.name);
        }
        await audit(actor, 'update', record.name, `changed ${changed.join(', ')}`);
      }
      if (change.retry) await retryName(record.name, actor);
      return describe(record.name);
    },

    async remove(input, options, actor) {
      const name = normalName(input, forbidden);
      const record = await store.hostnames.get(name);
      if (!record) throw new HostnameNotFoundError(name);
      const now = clock();
      const wasLive = !record.deletedAt;
      let retiredSerial: string | undefined;
      if (wasLive) {
        // Off the allowlist first: no new order starts for it from here on.
        await store.allowlist.remove([name]);
        await store.decisions.forget([name]);
        // The certificate's small fields only: the dashboard may not read its body (the sealed key).
        const [facts] = await store.hostnames.facts([name], now);
        const cert = facts?.certificate;
        if (cert && !cert.retiredAt) {
          await store.certificates.retire(name, 'left-policy', 'hostname deleted through the API or CLI', now);
          retiredSerial = cert.serial;
        }
        await store.hostnames.putMany([{ ...record, deletedAt: now, updatedAt: now }]);
      }
      if (options.purge) {
        await store.certificates.remove(name);
        await store.routes.remove(name);
        await store.nameStates.clear(name);
        await store.issueRecords.clear(name);
        await store.hostnames.purge(name);
      }
      if (wasLive || options.purge) {
        await audit(actor, options.purge ? 'purge' : 'delete', name, options.purge ? 'removed with its certificate' : 'retired');
        await publishAll(deps, 'hostname.deleted', [name], String(now));
      }
      // The issuer never sees this certificate again (retired, out of the renewal index): the event is ours to send.
      if (retiredSerial) await publishAll(deps, 'certificate.retired', [name], retiredSerial);
      return options.purge ? null : describe(name);
    },

    async retry(input, actor) {
      const record = await live(input);
      await retryName(record.name, actor);
      return describe(record.name);
    },
  };
}

/** The hostname an item asked for, as sent (for its error result), or null when it sent none. */
function inputName(item: unknown): string | null {
  const hostname = (item as { hostname?: unknown } | null)?.hostname;
  return typeof hostname === 'string' ? hostname.slice(0, 253) : null;
}
