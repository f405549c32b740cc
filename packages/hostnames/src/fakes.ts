/**
 * In-memory stand-ins for the store parts, queue and event sink the service uses, for its unit
 * tests. Each records what was done to it, so tests assert on effects.
 */
import {
  type AuditEntry,
  type CertificateFacts,
  type ExpiringName,
  type HostnameRecord,
  indexStatus,
  type NameState,
  type RetirementKind,
} from '@certfleet/store';
import type { HostnameEventType } from './contract.js';
import type { Provisioner, ServiceStore } from './deps.js';

export const T0 = Date.UTC(2027, 0, 1);

export function fakeStore() {
  const records = new Map<string, HostnameRecord>();
  const allowlist = new Set<string>();
  const states = new Map<string, NameState>();
  const certs = new Map<string, CertificateFacts & { name: string }>();
  const routes = new Map<string, string>();
  const audit: AuditEntry[] = [];
  const retired: { name: string; kind: RetirementKind }[] = [];
  const forgotten: string[] = [];
  const statusOf = (name: string) => {
    const record = records.get(name);
    const cert = certs.get(name);
    return indexStatus({ deleted: !!record?.deletedAt, certificate: !!cert && !cert.retiredAt, state: states.get(name)?.state ?? null });
  };
  const sorted = () => [...records.keys()].sort();
  const store: ServiceStore = {
    allowlist: {
      async add(entries) {
        const before = allowlist.size;
        for (const entry of entries) allowlist.add(entry);
        return allowlist.size - before;
      },
      async remove(entries) {
        let removed = 0;
        for (const entry of entries) removed += allowlist.delete(entry) ? 1 : 0;
        return removed;
      },
    },
    nameStates: {
      async clear(name) {
        states.delete(name);
      },
    },
    certificates: {
      async retire(name, kind, _reason, now) {
        const cert = certs.get(name);
        if (cert) certs.set(name, { ...cert, retiredAt: now });
        retired.push({ name, kind });
      },
      remove: async (name) => certs.delete(name),
    },
    hostnames: {
      get: async (name) => records.get(name) ?? null,
      getMany: async (names) => names.map((name) => records.get(name) ?? null),
      async putMany(list) {
        for (const record of list) records.set(record.name, { ...record });
      },
      async purge(name) {
        records.delete(name);
      },
      async page({ after, prefix, status, limit }) {
        return sorted()
          .filter(
            (name) =>
              (after === undefined || name > after) && (!prefix || name.startsWith(prefix)) && (!status || statusOf(name) === status),
          )
          .slice(0, limit);
      },
      async expiring(before, after, limit) {
        const entries: ExpiringName[] = [...certs.values()]
          .map((cert) => ({ name: cert.name, notAfter: cert.notAfter }))
          .filter((entry) => entry.notAfter < before)
          .sort((a, b) => a.notAfter - b.notAfter || (a.name < b.name ? -1 : 1));
        const start = after ? entries.findIndex((entry) => entry.name === after.name) + 1 : 0;
        return entries.slice(start, start + limit);
      },
      registered: async (names) => names.map((name) => records.has(name)),
      facts: async (names) =>
        names.map((name) => ({
          name,
          record: records.get(name) ?? null,
          allowedBy: allowlist.has(name) ? name : null,
          state: states.get(name) ?? null,
          certificate: certs.get(name) ?? null,
          renewAt: certs.get(name)?.renewAt ?? null,
          validationErrors: [],
          hold: null,
          route: routes.get(name) ?? null,
        })),
    },
    issueRecords: { async clear() {} },
    routes: {
      async set(name, url) {
        routes.set(name, url);
      },
      remove: async (name) => routes.delete(name),
    },
    decisions: {
      async forget(names) {
        forgotten.push(...names);
      },
    },
    audit: {
      async append(entries) {
        audit.push(...entries);
      },
    },
  };
  return { store, records, allowlist, states, certs, routes, audit, retired, forgotten };
}

export function fakeProvisioner() {
  const provisioned: string[] = [];
  const provisioner: Provisioner = {
    async provision(names) {
      provisioned.push(...names);
    },
  };
  return { provisioner, provisioned };
}

export function fakeEvents(options: { fail?: boolean } = {}) {
  const published: { type: HostnameEventType; hostname: string; key: string | undefined }[] = [];
  return {
    published,
    sink: {
      async publish(type: HostnameEventType, hostname: string, key?: string) {
        if (options.fail) throw new Error('webhook queue down');
        published.push({ type, hostname, key });
      },
    },
  };
}

export function certificate(name: string, notAfter: number): CertificateFacts & { name: string } {
  return {
    name,
    serial: `AB${name.length}`,
    notBefore: notAfter - 90 * 86_400_000,
    notAfter,
    issuer: 'Pebble Intermediate CA',
    issuedAt: notAfter - 90 * 86_400_000,
    renewAt: notAfter - 30 * 86_400_000,
    retiredAt: undefined,
    rsaSerial: undefined,
  };
}
