/** The certfleet command line (commander): every command but the `run ROLE` fast path of bin.ts. */
import { Command, InvalidArgumentError } from 'commander';
import { unknownVariableWarnings } from '@certfleet/config';
import { exitOnError } from './exit.js';
import { certsCommand } from './certs-command.js';
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

program.addCommand(certsCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  exitOnError(error);
}
