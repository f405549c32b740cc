import { Command } from 'commander';
import { loadCommonConfig } from '@certfleet/config';
import { formatTime, splitNames, table, UsageError, withStore } from './admin.js';
import { type CertificateFilter, certificatePage } from './certificate-pages.js';
import { wholeNumber } from './options.js';

/** The most rows one `certs ls` prints; more come page by page with --from. */
const MAX_LIMIT = 10_000;

/** `certfleet certs …`: stored certificates, read-only. */
export function certsCommand(): Command {
  const certs = new Command('certs').description('inspect stored certificates');
  certs
    .command('ls')
    .description('list stored certificates, soonest expiry first, a page at a time')
    .option('--json', 'print JSON (an array; the next page, when there is one, is named on standard error)')
    .option('--limit <n>', `at most this many (1-${MAX_LIMIT})`, wholeNumber('--limit', 1, MAX_LIMIT), 1000)
    .option(
      '--from <position>',
      "start at this inventory position (the next page's, as the previous page said)",
      wholeNumber('--from', 0, Number.MAX_SAFE_INTEGER),
      0,
    )
    .option('--state <state>', 'active (renewed when due), retired (not renewed, kept until expiry) or all', 'all')
    .action(async (options: { json?: boolean; limit: number; from: number; state: string }) => {
      if (!['active', 'retired', 'all'].includes(options.state)) {
        throw new UsageError(`--state must be active, retired or all, got "${options.state.slice(0, 40)}"`);
      }
      const filter = options.state as CertificateFilter;
      const { page, ever } = await withStore(loadCommonConfig(process.env), async (store) => ({
        page: await certificatePage(store.certificates, { from: options.from, limit: options.limit, filter }),
        ever: await store.certificates.retirementCounts(),
      }));
      const list = page.certificates;
      const more =
        page.next === null
          ? undefined
          : `more certificates match: run again with --from ${page.next}${filter === 'all' ? '' : ` --state ${filter}`} (and the same --limit)`;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`);
        if (more) process.stderr.write(`certfleet: ${more}\n`);
        return;
      }
      const rows = [['NAME', 'SERIAL', 'NOT AFTER', 'STATE', 'ISSUER']];
      for (const c of list) {
        rows.push([
          c.name,
          c.serial,
          formatTime(c.notAfter),
          c.retiredAt ? `retired: ${c.retiredReason ?? c.retiredKind ?? '?'}` : 'active',
          c.issuer,
        ]);
      }
      process.stdout.write(`${table(rows)}\n`);
      if (filter !== 'active') {
        // Both reasons a certificate is not renewed, counted: those on this page, and every retirement so far.
        const here = (kind: string) => list.filter((c) => c.retiredAt !== undefined && c.retiredKind === kind).length;
        process.stdout.write(
          `retired on this page: ${here('left-policy')} left the policy, ${here('idle')} idle; ` +
            `retired ever: ${ever['left-policy']} left the policy, ${ever.idle} idle\n`,
        );
      }
      process.stdout.write(more ? `${list.length} shown; ${more}\n` : `${list.length} shown, no more\n`);
    });
  certs
    .command('show')
    .description('show one stored certificate')
    .argument('<name>')
    .option('--json', 'print JSON')
    .option('--pem', 'also print the certificate chain (never the private key)')
    .action(async (input: string, options: { json?: boolean; pem?: boolean }) => {
      const { valid, invalid } = splitNames([input]);
      const name = valid[0];
      if (!name) throw new UsageError(`"${input}" is not a valid domain name: ${invalid[0]?.reason}`);
      const found = await withStore(loadCommonConfig(process.env), async (store) => ({
        // Without the keys: `certs show` needs no key file and can never print one.
        cert: await store.certificates.describe(name),
        renewAt: await store.renewals.when(name),
        nextAriPollAt: await store.renewals.nextAriPoll(name),
        lastServedAt: await store.served.lastServed(name),
      }));
      if (!found.cert) throw new UsageError(`no certificate is stored for ${name}: see 'certfleet certs ls'`);
      // The RSA certificate shows only its serial and expiry.
      const { chainPem, rsa, ...summary } = found.cert;
      const extra = { renewAt: found.renewAt, nextAriPollAt: found.nextAriPollAt, lastServedAt: found.lastServedAt };
      if (options.json) {
        const rsaSummary = rsa ? { rsa: { serial: rsa.serial, notAfter: rsa.notAfter } } : {};
        process.stdout.write(`${JSON.stringify({ ...summary, ...rsaSummary, ...extra, ...(options.pem ? { chainPem } : {}) })}\n`);
        return;
      }
      const rows = [
        ['name', summary.name],
        ['names', summary.names.join(', ')],
        ['serial', summary.serial],
        ['not before', formatTime(summary.notBefore)],
        ['not after', formatTime(summary.notAfter)],
        ['renew at', found.renewAt === null ? '-' : formatTime(found.renewAt)],
        ['next ARI poll', found.nextAriPollAt === null ? '-' : formatTime(found.nextAriPollAt)],
        ['last served', found.lastServedAt === null ? '-' : formatTime(found.lastServedAt)],
        ...(summary.retiredAt !== undefined ? [['retired', `${formatTime(summary.retiredAt)}: ${summary.retiredReason ?? ''}`]] : []),
        ['issuer', summary.issuer],
        ['issued at', formatTime(summary.issuedAt)],
      ];
      process.stdout.write(`${table(rows)}\n${options.pem ? chainPem : ''}`);
    });
  return certs;
}
