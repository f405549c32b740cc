import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { loadCommonConfig, loadPolicyConfig } from '@certfleet/config';
import { checkHostname, DEFAULT_FORBIDDEN_SUFFIXES } from '@certfleet/domain';
import { createPolicyChainFromConfig } from '@certfleet/policy';
import { createIssueQueue, requestIssuance } from '@certfleet/queue';
import type { RedisClient, Store } from '@certfleet/store';

import { formatTime, splitNames, table, withStore, UsageError } from './admin.js';
import { summariseError } from './error-summary.js';
import { openImportSource } from './import-source.js';

const IMPORT_BATCH = 1_000;

/** `certfleet domains …`: the allowlist, and explaining policy decisions. */
export function domainsCommand(): Command {
  const domains = new Command('domains').description('manage the allowlist and explain policy decisions');
  domains
    .command('add')
    .description('allow names: exact (shop.example.com) or every name below a suffix (*.customers.example.net)')
    .argument('<entries...>')
    .option('--issue', 'also enqueue issuance now (pre-provisioning, after waiting visitors, before renewals)')
    .action(async (inputs: string[], options: { issue?: boolean }) => {
      const { valid, invalid } = splitNames(inputs, { entries: true });
      for (const bad of invalid) process.stderr.write(`skipped "${bad.input}": ${bad.reason}\n`);
      const { added, enqueued } = await withStore(loadCommonConfig(process.env), async (store, redis) => {
        const count = await store.allowlist.add(valid);
        await store.decisions.forget(valid.filter((entry) => !entry.startsWith('*.')));
        return { added: count, enqueued: options.issue ? await provision(store, redis, valid) : 0 };
      });
      process.stdout.write(
        `added ${added} entr${added === 1 ? 'y' : 'ies'}${valid.length > added ? `, ${valid.length - added} already allowed` : ''}${options.issue ? `; ${enqueued} enqueued for issuance` : ''}\n`,
      );
      if (invalid.length) process.exitCode = 1;
    });
  domains
    .command('rm')
    .description('stop allowing entries (edges stop within a minute; stored certificates stay until removed or expired)')
    .argument('<entries...>')
    .action(async (inputs: string[]) => {
      const { valid, invalid } = splitNames(inputs, { entries: true });
      for (const bad of invalid) process.stderr.write(`skipped "${bad.input}": ${bad.reason}\n`);
      const removed = await withStore(loadCommonConfig(process.env), async (store) => {
        const count = await store.allowlist.remove(valid);
        await store.decisions.forget(valid.filter((entry) => !entry.startsWith('*.')));
        return count;
      });
      process.stdout.write(`removed ${removed} entr${removed === 1 ? 'y' : 'ies'}\n`);
      if (invalid.length) process.exitCode = 1;
    });
  domains
    .command('ls')
    .description('list allowlist entries')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const entries = await withStore(loadCommonConfig(process.env), (store) => store.allowlist.list());
      process.stdout.write(options.json ? `${JSON.stringify(entries)}\n` : entries.map((n) => `${n}\n`).join(''));
    });
  domains
    .command('import')
    .description('allow every entry of FILE (one a line; blank lines and # comments ignored; - reads standard input)')
    .argument('<file>')
    .option('--issue', 'also enqueue issuance for every exact name (pre-provisioning)')
    .action(async (file: string, options: { issue?: boolean }) => {
      const lines = createInterface({ input: await openImportSource(file), crlfDelay: Infinity });
      let added = 0;
      let seen = 0;
      let refused = 0;
      let lineNumber = 0;
      let enqueued = 0;
      await withStore(loadCommonConfig(process.env), async (store, redis) => {
        let batch: string[] = [];
        const flush = async () => {
          added += await store.allowlist.add(batch);
          await store.decisions.forget(batch.filter((entry) => !entry.startsWith('*.')));
          if (options.issue) enqueued += await provision(store, redis, batch);
          batch = [];
        };
        for await (const raw of lines) {
          lineNumber += 1;
          const line = raw.replace(/#.*/, '').trim();
          if (!line) continue;
          const { valid, invalid } = splitNames([line], { entries: true });
          if (invalid[0]) {
            refused += 1;
            process.stderr.write(`${file}:${lineNumber}: skipped "${invalid[0].input}": ${invalid[0].reason}\n`);
            continue;
          }
          seen += 1;
          batch.push(...valid);
          if (batch.length >= IMPORT_BATCH) await flush();
        }
        await flush();
      });
      process.stdout.write(
        `imported ${seen} entr${seen === 1 ? 'y' : 'ies'} (${added} new), skipped ${refused}${options.issue ? `; ${enqueued} enqueued for issuance` : ''}\n`,
      );
      if (refused) process.exitCode = 1;
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
    .description("show a name's issuance state: active, issuing, cooling down until T, failed; last error, attempts, certificate")
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (input: string, options: { json?: boolean }) => {
      const name = oneName(input);
      const status = await withStore(loadCommonConfig(process.env), async (store) => {
        const [state, cert, renewAt, allowedBy] = await Promise.all([
          store.nameStates.get(name),
          store.certificates.describe(name),
          store.renewals.when(name),
          store.allowlist.match(name),
        ]);
        return { name, state, cert, renewAt, allowedBy };
      });
      const now = Date.now();
      const state = status.state;
      const label = !state
        ? status.cert
          ? 'active'
          : 'never issued'
        : state.state === 'cooling' && (state.coolUntil ?? 0) <= now
          ? 'cool-down over (next handshake may order)'
          : state.state === 'cooling'
            ? `cooling down until ${formatTime(state.coolUntil ?? 0)}`
            : state.state === 'failed'
              ? `failed permanently (run 'certfleet domains retry ${name}' once fixed)`
              : state.state;
      if (options.json) {
        const { chainPem: _c, rsa, ...cert } = status.cert ?? ({} as Record<string, never>);
        process.stdout.write(
          `${JSON.stringify({ name, status: label, ...(state ?? {}), allowlistEntry: status.allowedBy, certificate: status.cert ? { ...cert, rsaSerial: rsa?.serial } : null, renewAt: status.renewAt })}\n`,
        );
        return;
      }
      const rows = [
        ['name', name],
        ['state', label],
        ['attempts', String(state?.attempts ?? 0)],
        ['failures in a row', String(state?.failures ?? 0)],
        ['last error', state?.lastError ? `${summariseError(state.lastError)} (${formatTime(state.lastErrorAt ?? 0)})` : '-'],
        ['CA', state?.ca ?? '-'],
        ['allowlist entry', status.allowedBy ?? '-'],
        [
          'certificate',
          status.cert
            ? `serial ${status.cert.serial}, not after ${formatTime(status.cert.notAfter)}, ${status.cert.issuer}${status.cert.rsa ? ` (+ RSA serial ${status.cert.rsa.serial})` : ''}`
            : '-',
        ],
        ['renew at', status.renewAt === null ? '-' : formatTime(status.renewAt)],
      ];
      process.stdout.write(`${table(rows)}\n`);
    });
  domains
    .command('retry')
    .description('clear a cool-down or a permanent failure, so the next handshake (or --issue) orders again')
    .argument('<name>')
    .option('--issue', 'also enqueue issuance now')
    .action(async (input: string, options: { issue?: boolean }) => {
      const name = oneName(input);
      await withStore(loadCommonConfig(process.env), async (store, redis) => {
        await store.nameStates.clear(name);
        if (options.issue) await provision(store, redis, [name]);
      });
      process.stdout.write(`${name}: cleared${options.issue ? ', enqueued for issuance' : ''}\n`);
    });
  return domains;
}

function oneName(input: string): string {
  const { valid, invalid } = splitNames([input]);
  if (!valid[0]) throw new UsageError(`"${input}" is not a valid domain name: ${invalid[0]?.reason}`);
  return valid[0];
}

/** Enqueues pre-provisioning for the exact names among `entries`; returns how many. */
async function provision(store: Store, redis: RedisClient, entries: readonly string[]): Promise<number> {
  const names = entries.filter((entry) => !entry.startsWith('*.'));
  if (names.length === 0) return 0;
  const queue = createIssueQueue({ connection: redis, prefix: store.queuePrefix });
  try {
    const now = Date.now();
    await Promise.all(names.map((name) => requestIssuance(queue, { name, reason: 'provision', requestedAt: now })));
    return names.length;
  } finally {
    await queue.close();
  }
}
