import { ConfigError } from '@certfleet/config';
import { errorMessage } from '@certfleet/observability';

/** Ends the command on an error: exit code 2 and the variable's message for configuration, 1 otherwise. */
export function exitOnError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`certfleet: configuration error: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`certfleet: ${errorMessage(error)}\n`);
  process.exit(1);
}
