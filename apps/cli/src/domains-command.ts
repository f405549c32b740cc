import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { loadCommonConfig, loadPolicyConfig } from '@certfleet/config';
import { checkHostname, DEFAULT_FORBIDDEN_SUFFIXES } from '@certfleet/domain';
import {
  type BulkItemResult,
  describeHostname,
  HostnameNotFoundError,
  type HostnameService,
  MAX_BULK_ITEMS,
  MAX_PAGE_SIZE,
} from '@certfleet/hostnames';
import { createPolicyChainFromConfig } from '@certfleet/policy';
import type { Store } from '@certfleet/store';

import { splitNames, table, withStore, UsageError } from './admin.js';
import { detailOf, LIST_STATES, listByState, type ListState } from './domains-list.js';
import { statusJson, statusRows, type StatusView } from './domains-status.js';
import { cliActor, withHostnameService } from './hostname-service.js';
import { importLines } from './import-names.js';
import { openImportSource } from './import-source.js';
import { wholeNumber } from './options.js';
import { progressLine } from './progress.js';

/** Names per bulk call of an import: big enough that round trips do not dominate, small enough for a lively progress line. */
const IMPORT_BATCH = 2_000;

/**
 * `certfleet domains …`: hostnames and the allowlist, and explaining policy decisions. Exact
 * names go through the hostname service the API uses (@certfleet/hostnames); `*.suffix`
 * entries are allowlist entries only (a hostname is one name).
 */
export function domainsCommand(): Command {
  const domains = new Command('domains').description('manage hostnames and the allowlist, explain policy decisions');
  domains
    .command('add')
    .description('allow names: exact (shop.example.com, registered as hostnames) or every name below a suffix (*.customers.example.net)')
    .argument('<entries...>')
    .option('--issue', 'also enqueue issuance now (pre-provisioning, after waiting visitors, before renewals)')
    .action(async (inputs: string[], options: { issue?: boolean }) => {
      const { valid, invalid } = splitNames(inputs, { entries: true });
      for (const bad of invalid) process.stderr.write(`skipped "${bad.input}": ${bad.reason}\n`);
      const names = valid.filter((entry) => !entry.startsWith('*.'));
      const wildcards = valid.filter((entry) => entry.startsWith('*.'));
      const outcome = await withHostnameService(loadCommonConfig(process.env), async (service, store) => ({
        results: await createAll(service, names, options.issue === true),
        wildcardsNew: wildcards.length ? await store.allowlist.add(wildcards) : 0,
      }));
      // One result per name, in order: an error's own hostname is null when the service could not read one.
      const refused = outcome.results.flatMap((r, i) => (r.result === 'error' ? [{ name: names[i] ?? '?', detail: r.error?.detail }] : []));
      for (const r of refused) process.stderr.write(`skipped "${r.name}": ${r.detail ?? 'refused'}\n`);
      const added = outcome.results.filter((r) => r.result === 'created').length + outcome.wildcardsNew;
      const already = valid.length - refused.length - added;
      const enqueued = options.issue ? names.length - refused.length : 0;
      process.stdout.write(
        `added ${added} entr${added === 1 ? 'y' : 'ies'}${already > 0 ? `, ${already} already allowed` : ''}${options.issue ? `; ${enqueued} enqueued for issuance` : ''}\n`,
      );
      if (invalid.length || refused.length) process.exitCode = 1;
    });
  domains
    .command('rm')
    .description('stop allowing entries: a hostname is retired (its certificate is served until it expires, not renewed)')
    .argument('<entries...>')
    .option('--purge', 'remove the certificate and every record of the hostname now')
    .action(async (inputs: string[], options: { purge?: boolean }) => {
      const { valid, invalid } = splitNames(inputs, { entries: true });
      for (const bad of invalid) process.stderr.write(`skipped "${bad.input}": ${bad.reason}\n`);
      const removed = await withHostnameService(loadCommonConfig(process.env), async (service, store) => {
        let count = 0;
        for (const entry of valid) count += (await removeEntry(service, store, entry, options.purge === true)) ? 1 : 0;
        return count;
      });
      process.stdout.write(`removed ${removed} entr${removed === 1 ? 'y' : 'ies'}\n`);
      if (invalid.length) process.exitCode = 1;
    });
  domains
    .command('ls')
    .description(`list allowlist entries; with --state, hostnames in that state (${LIST_STATES.join(', ')}), a page at a time`)
    .option('--json', 'print JSON')
    .option(
      '--state <state>',
      'failed: every failing name (cooling down or refused); cooling; held (by a CA budget); pending; active; retired',
    )
    .option('--prefix <text>', 'with --state: names starting with this')
    .option('--limit <n>', `with --state: at most this many (1-${MAX_PAGE_SIZE})`, wholeNumber('--limit', 1, MAX_PAGE_SIZE), 100)
    .option('--cursor <cursor>', 'with --state: the next page, as the previous page said')
    .action(async (options: { json?: boolean; state?: string; prefix?: string; limit: number; cursor?: string }) => {
      if (options.state === undefined) {
        const entries = await withStore(loadCommonConfig(process.env), (store) => store.allowlist.list());
        process.stdout.write(options.json ? `${JSON.stringify(entries)}\n` : entries.map((n) => `${n}\n`).join(''));
        return;
      }
      if (!(LIST_STATES as string[]).includes(options.state)) {
        throw new UsageError(`--state must be one of ${LIST_STATES.join(', ')}, got "${options.state.slice(0, 40)}"`);
      }
      const state = options.state as ListState;
      const page = await withHostnameService(loadCommonConfig(process.env), (service) =>
        listByState(service, { state, limit: options.limit, cursor: options.cursor, q: options.prefix }),
      );
      const more = page.next === null ? undefined : `more may follow: run again with --cursor ${page.next}`;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(page.hostnames)}\n`);
        if (more) process.stderr.write(`certfleet: ${more}\n`);
        return;
      }
      const rows = [
        ['NAME', 'STATUS', 'CERTIFICATE', 'DETAIL'],
        ...page.hostnames.map((h) => [h.hostname, h.status, h.certificate.status, detailOf(h)]),
      ];
      process.stdout.write(`${table(rows)}\n${page.hostnames.length} shown${more ? `; ${more}` : ', no more'}\n`);
    });
  domains
    .command('import')
    .description('allow every entry of FILE (one a line; blank lines and # comments ignored; - reads standard input)')
    .argument('<file>')
    .option('--issue', 'also enqueue issuance for every exact name (pre-provisioning)')
    .action(async (file: string, options: { issue?: boolean }) => {
      const source = await openImportSource(file);
      const started = Date.now();
      const bar = progressLine(process.stderr);
      const report = await withHostnameService(loadCommonConfig(process.env), (service, store) =>
        importLines(
          // Made here, once connected: lines read before a loop asks for them would be lost (and the end with them).
          createInterface({ input: source.input, crlfDelay: Infinity }),
          {
            hostnames: (items) => service.bulkCreate(items, cliActor()),
            wildcards: (entries) => store.allowlist.add(entries),
          },
          {
            issue: options.issue === true,
            batch: IMPORT_BATCH,
            onSkip: (skipped) => {
              bar.clear();
              process.stderr.write(`${file === '-' ? 'stdin' : file}:${skipped.line}: skipped "${skipped.input}": ${skipped.reason}\n`);
            },
            onProgress: (done) =>
              bar.update({
                done,
                fraction: source.size ? source.bytesRead() / source.size : undefined,
                elapsedMs: Date.now() - started,
              }),
          },
        ),
      );
      bar.clear();
      const entries = report.entries - report.skipped;
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(
        `imported ${entries} entr${entries === 1 ? 'y' : 'ies'} (${report.created + report.wildcardsNew} new), skipped ${report.skipped}` +
          `${options.issue ? `; ${report.created + report.unchanged} enqueued for issuance` : ''}` +
          ` in ${seconds.toFixed(1)} s (${Math.round(report.entries / Math.max(seconds, 0.001))}/s)\n`,
      );
      if (report.skipped) process.exitCode = 1;
    });
  domains
    .command('check')
    .description('explain whether certfleet may issue for NAME, which policy decides and why (no side effects)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (input: string, options: { json?: boolean }) => {
      const warnings: string[] = [];
      const policyConfig = loadPolicyConfig(process.env, warnings);
      for (const warning of warnings) process.stderr.write(`certfleet: warning: ${warning}\n`);
      const check = checkHostname(input, { forbiddenSuffixes: [...DEFAULT_FORBIDDEN_SUFFIXES, ...policyConfig.forbiddenSuffixes] });
      if (!check.ok) {
        const result = { name: input, allowed: false, policy: 'name', reason: `${check.reason} (rule: ${check.rule})` };
        process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${input}: denied by name: ${result.reason}\n`);
        process.exitCode = 1;
        return;
      }
      const decision = await withStore(loadCommonConfig(process.env), (store) =>
        createPolicyChainFromConfig(policyConfig, store, { readOnly: true }).decide(check.name),
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ name: check.name, ...decision })}\n`);
      } else {
        const verdict = decision.allowed ? 'allowed' : 'denied';
        process.stdout.write(`${check.name}: ${verdict} by ${decision.policy}: ${decision.reason}${decision.stale ? ' [stale]' : ''}\n`);
      }
      if (!decision.allowed) process.exitCode = 1;
    });
  domains
    .command('status')
    .description("show a name's state: active, issuing, cooling down until T, failed, held by a CA budget; errors, attempts, certificate")
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (input: string, options: { json?: boolean }) => {
      const name = oneName(input);
      const view = await withStore(loadCommonConfig(process.env), async (store): Promise<StatusView> => {
        const [state, cert, renewAt, allowedBy, hostname] = await Promise.all([
          store.nameStates.get(name),
          store.certificates.describe(name),
          store.renewals.when(name),
          store.allowlist.match(name),
          describeHostname(store, name),
        ]);
        return { name, state, cert, renewAt, allowedBy, hostname };
      });
      const now = Date.now();
      process.stdout.write(options.json ? `${JSON.stringify(statusJson(view, now))}\n` : `${table(statusRows(view, now))}\n`);
    });
  domains
    .command('retry')
    .description('clear a cool-down or a permanent failure and enqueue issuance now')
    .argument('<name>')
    .option('--issue', 'kept for scripts: retry always enqueues issuance now')
    .action(async (input: string) => {
      const name = oneName(input);
      await withHostnameService(loadCommonConfig(process.env), async (service, store) => {
        try {
          await service.retry(name, cliActor());
        } catch (error) {
          if (!(error instanceof HostnameNotFoundError)) throw error;
          // Allowed before hostnames were registered (allowlist only): clear it the way it always was.
          await store.nameStates.clear(name);
          await createAll(service, [name], true);
        }
      });
      process.stdout.write(`${name}: cleared, enqueued for issuance\n`);
    });
  return domains;
}

function oneName(input: string): string {
  const { valid, invalid } = splitNames([input]);
  if (!valid[0]) throw new UsageError(`"${input}" is not a valid domain name: ${invalid[0]?.reason}`);
  return valid[0];
}

/** Registers names through the service, {@link MAX_BULK_ITEMS} at a time. */
async function createAll(service: HostnameService, names: readonly string[], issue: boolean): Promise<BulkItemResult[]> {
  const results: BulkItemResult[] = [];
  for (let i = 0; i < names.length; i += MAX_BULK_ITEMS) {
    const items = names.slice(i, i + MAX_BULK_ITEMS).map((hostname) => (issue ? { hostname, issue } : { hostname }));
    results.push(...(await service.bulkCreate(items, cliActor())));
  }
  return results;
}

/**
 * Removes one entry: a wildcard from the allowlist; a hostname through the service (retired, or
 * purged); a name allowed before hostnames were registered, from the allowlist as before.
 */
async function removeEntry(service: HostnameService, store: Store, entry: string, purge: boolean): Promise<boolean> {
  if (!entry.startsWith('*.')) {
    try {
      return (await service.remove(entry, { purge }, cliActor())) !== null;
    } catch (error) {
      if (!(error instanceof HostnameNotFoundError)) throw error;
    }
  }
  const removed = await store.allowlist.remove([entry]);
  if (!entry.startsWith('*.')) await store.decisions.forget([entry]);
  return removed > 0;
}
