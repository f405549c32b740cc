import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** The role or tool writing the log: `edge`, `issuer`, `renewer`, `dashboard`, `cli`. */
  role: string;
  level: string;
  /** Where JSON lines go; standard output by default. */
  destination?: NodeJS.WritableStream;
}

/**
 * One JSON line per event, with `role` and `pid` on every line. Child loggers add `{domain, jobId}`.
 * Private keys never reach a logger: the redaction list is a second line of defence.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { role: options.role, pid: process.pid },
      redact: { paths: ['keyPem', '*.keyPem', 'accountKey', '*.accountKey', 'token', '*.token'], censor: '[secret]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** The message of anything thrown, for log fields and one-line errors. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
