#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadCommonConfig } from '@certfleet/config';
import { errorMessage } from '@certfleet/observability';
import { formatTime, splitNames, table, UsageError, withStore } from './admin.js';
import { domainsCommand } from './domains-command.js';
import { routesCommand } from './routes-command.js';
import { ROLE_NAMES, runRole, type Role } from './run-role.js';

const program = new Command('certfleet')
  .description('HTTPS on the fly for customer domains: run a role, manage domains and certificates')
  .showHelpAfterError();

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
    const all = await withStore(loadCommonConfig(process.env), (store) => store.certificates.list(0, options.limit));
    const list = all.filter((c) => options.state === 'all' || (options.state === 'retired') === (c.retiredAt !== undefined));
    if (options.json) {
      process.stdout.write(`${JSON.stringify(list)}\n`);
      return;
    }
    const rows = [['NAME', 'SERIAL', 'NOT AFTER', 'STATE', 'ISSUER']];
    for (const c of list) rows.push([c.name, c.serial, formatTime(c.notAfter), c.retiredAt ? 'retired' : 'active', c.issuer]);
    process.stdout.write(`${table(rows)}\n`);
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
      cert: await store.certificates.get(name),
      renewAt: await store.renewals.when(name),
    }));
    if (!found.cert) throw new UsageError(`no certificate is stored for ${name}: see 'certfleet certs ls'`);
    const { keyPem: _secret, chainPem, ...summary } = found.cert;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...summary, renewAt: found.renewAt, ...(options.pem ? { chainPem } : {}) })}\n`);
      return;
    }
    const rows = [
      ['name', summary.name],
      ['names', summary.names.join(', ')],
      ['serial', summary.serial],
      ['not before', formatTime(summary.notBefore)],
      ['not after', formatTime(summary.notAfter)],
      ['renew at', found.renewAt === null ? '-' : formatTime(found.renewAt)],
      ['issuer', summary.issuer],
      ['issued at', formatTime(summary.issuedAt)],
    ];
    process.stdout.write(`${table(rows)}\n${options.pem ? chainPem : ''}`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`certfleet: configuration error: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`certfleet: ${errorMessage(error)}\n`);
  process.exit(1);
}
