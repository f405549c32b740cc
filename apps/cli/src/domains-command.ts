import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { loadCommonConfig, loadPolicyConfig } from '@certfleet/config';
import { checkHostname, DEFAULT_FORBIDDEN_SUFFIXES } from '@certfleet/domain';
import { createPolicyChainFromConfig } from '@certfleet/policy';
import { splitNames, withStore, UsageError } from './admin.js';

const IMPORT_BATCH = 1_000;

/** `certfleet domains …`: the allowlist, and explaining policy decisions. */
export function domainsCommand(): Command {
  const domains = new Command('domains').description('manage the allowlist and explain policy decisions');
  domains
    .command('add')
    .description('allow names: exact (shop.example.com) or every name below a suffix (*.customers.example.net)')
    .argument('<entries...>')
    .action(async (inputs: string[]) => {
      const { valid, invalid } = splitNames(inputs, { entries: true });
      for (const bad of invalid) process.stderr.write(`skipped "${bad.input}": ${bad.reason}\n`);
      const added = await withStore(loadCommonConfig(process.env), async (store) => {
        const count = await store.allowlist.add(valid);
        await store.decisions.forget(valid.filter((entry) => !entry.startsWith('*.')));
        return count;
      });
      process.stdout.write(`added ${added} entr${added === 1 ? 'y' : 'ies'}${valid.length > added ? `, ${valid.length - added} already allowed` : ''}\n`);
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
    .action(async (file: string) => {
      const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
      let added = 0;
      let seen = 0;
      let refused = 0;
      let lineNumber = 0;
      await withStore(loadCommonConfig(process.env), async (store) => {
        let batch: string[] = [];
        const flush = async () => {
          added += await store.allowlist.add(batch);
          await store.decisions.forget(batch.filter((entry) => !entry.startsWith('*.')));
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
      process.stdout.write(`imported ${seen} entr${seen === 1 ? 'y' : 'ies'} (${added} new), skipped ${refused}\n`);
      if (refused) process.exitCode = 1;
    });
  domains
    .command('check')
    .description('explain whether certfleet may issue for NAME, which policy decides and why (no side effects)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (input: string, options: { json?: boolean }) => {
      const policyConfig = loadPolicyConfig(process.env);
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
  return domains;
}
