import { Command } from 'commander';
import { loadKeysConfig } from '@certfleet/config';
import { createKeyring } from '@certfleet/sealing';
import { RESEAL_KINDS, type ResealReport } from '@certfleet/store';
import { withStore } from './admin.js';

/** One line of counts per kind of record, e.g. `certificate: 1200 seen, 1150 resealed, 50 current, 0 failed`. */
function formatResealCounts(report: ResealReport): string {
  return RESEAL_KINDS.filter((kind) => report.counts[kind].seen > 0)
    .map((kind) => {
      const c = report.counts[kind];
      return `${kind}: ${c.seen} seen, ${c.resealed} resealed, ${c.current} current, ${c.failed} failed`;
    })
    .join('; ');
}

/** `certfleet keys`: the fleet's at-rest key (CERTFLEET_KEK_FILE). */
export function keysCommand(): Command {
  const keys = new Command('keys').description('the at-rest key that seals private keys and secrets (CERTFLEET_KEK_FILE)');
  keys
    .command('rotate')
    .description(
      're-seal every record not under the first key of CERTFLEET_KEK_FILE (and seal records written before sealing); ' +
        'safe while the fleet runs, and run again to finish an interrupted rotation. ' +
        'To rotate: put a new key as the first line, keep the old one below it, restart the issuers and edges, run this, then remove the old line.',
    )
    .option('--every <n>', 'print progress every n records', (v) => Number.parseInt(v, 10), 1000)
    .action(async (options: { every: number }) => {
      const config = loadKeysConfig(process.env);
      const keyring = createKeyring(config.dataKeys);
      process.stdout.write(`re-sealing under key ${keyring.currentKeyId}\n`);
      const report = await withStore(
        config,
        (store) =>
          store.resealAll({
            every: options.every,
            onProgress: (progress) => process.stdout.write(`progress: ${formatResealCounts(progress)}\n`),
          }),
        { keyring },
      );
      for (const problem of report.problems) process.stderr.write(`certfleet: could not re-seal ${problem.key}: ${problem.reason}\n`);
      const failed = report.problems.length;
      process.stdout.write(
        failed === 0
          ? `done: every record is sealed under key ${keyring.currentKeyId}; the older keys may now be removed from CERTFLEET_KEK_FILE\n`
          : `done with ${failed} record(s) not re-sealed (listed above): keep the older keys in CERTFLEET_KEK_FILE until they are fixed or removed\n`,
      );
      if (failed > 0) process.exitCode = 1;
    });
  return keys;
}
