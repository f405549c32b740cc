/** The certfleet command line (commander): every command but the `run ROLE` fast path of bin.ts. */
import { Command, InvalidArgumentError } from 'commander';
import { loadCommonConfig, unknownVariableWarnings } from '@certfleet/config';
import { exitOnError } from './exit.js';
import { formatTime, splitNames, table, UsageError, withStore } from './admin.js';
import { domainsCommand } from './domains-command.js';
import { keysCommand } from './keys-command.js';
import { routesCommand } from './routes-command.js';
import { ROLE_NAMES, runRole, type Role } from './run-role.js';

const program = new Command('certfleet')
  .description('HTTPS on the fly for customer domains: run a role, manage domains and certificates')
  .showHelpAfterError()
  // Once per command, before it reads its configuration (`run` warns in its own log instead).
  .hook('preAction', (_program, action) => {
    if (action.name() === 'run') return;
    for (const warning of unknownVariableWarnings(process.env)) process.stderr.write(`certfleet: warning: ${warning}\n`);
  });

program
  .command('run')
  .description(`start a role: ${ROLE_NAMES.join(', ')} (configured by environment variables, see the README)`)
  .argument('<role>', ROLE_NAMES.join('|'), (value: string) => {
    if (!(ROLE_NAMES as string[]).includes(value)) {
      throw new InvalidArgumentError(`unknown role "${value}": choose one of ${ROLE_NAMES.join(', ')}`);
    }
    return value as Role;
  })
  .action(async (role: Role) => runRole(role, process.env));

program.addCommand(domainsCommand());
program.addCommand(routesCommand());
program.addCommand(keysCommand());

const certs = program.command('certs').description('inspect stored certificates');
certs
  .command('ls')
  .description('list stored certificates, soonest expiry first')
  .option('--json', 'print JSON')
  .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 1000)
  .option('--state <state>', 'active (renewed when due), retired (not renewed, kept until expiry) or all', 'all')
  .action(async (options: { json?: boolean; limit: number; state: string }) => {
    if (!['active', 'retired', 'all'].includes(options.state)) {
      throw new UsageError(`--state must be active, retired or all, got "${options.state}"`);
    }
    const { all, ever } = await withStore(loadCommonConfig(process.env), async (store) => ({
      all: await store.certificates.list(0, options.limit),
      ever: await store.certificates.retirementCounts(),
    }));
    const list = all.filter((c) => options.state === 'all' || (options.state === 'retired') === (c.retiredAt !== undefined));
    if (options.json) {
      process.stdout.write(`${JSON.stringify(list)}\n`);
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
    if (options.state !== 'active') {
      // Both reasons a certificate is not renewed, counted: those still stored, and every retirement so far.
      const now = (kind: string) => list.filter((c) => c.retiredAt !== undefined && c.retiredKind === kind).length;
      process.stdout.write(
        `retired now: ${now('left-policy')} left the policy, ${now('idle')} idle; ` +
          `retired ever: ${ever['left-policy']} left the policy, ${ever.idle} idle\n`,
      );
    }
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  exitOnError(error);
}
