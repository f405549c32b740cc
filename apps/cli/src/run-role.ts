import cluster from 'node:cluster';
import {
  loadDashboardConfig,
  loadEdgeConfig,
  loadIssuerConfig,
  loadRenewerConfig,
  unknownVariableWarnings,
  type CommonConfig,
} from '@certfleet/config';
import { createLogger, errorMessage, type Logger } from '@certfleet/observability';

interface Running {
  close(): Promise<void>;
}

/**
 * Each role: how to read its configuration and how to start it. The CLI is the one launcher of
 * every role (one container image); roles never import each other. Roles load on demand, so
 * `certfleet domains ls` does not pay for the edge's or the dashboard's dependencies.
 */
const ROLES = {
  edge: { load: loadEdgeConfig, start: async () => (await import('@certfleet/edge')).startEdgeRole },
  issuer: { load: loadIssuerConfig, start: async () => (await import('@certfleet/issuer')).startIssuer },
  renewer: { load: loadRenewerConfig, start: async () => (await import('@certfleet/renewer')).startRenewer },
  dashboard: { load: loadDashboardConfig, start: async () => (await import('@certfleet/dashboard')).startDashboard },
} satisfies Record<
  string,
  { load: (env: NodeJS.ProcessEnv) => CommonConfig; start: () => Promise<(config: never, logger: Logger) => Promise<Running>> }
>;

export type Role = keyof typeof ROLES;
export const ROLE_NAMES = Object.keys(ROLES) as Role[];
export const isRole = (name: string | undefined): name is Role => name !== undefined && Object.hasOwn(ROLES, name);

/** How long a role may take to finish its work after SIGTERM before it exits anyway. */
const SHUTDOWN_GRACE_MS = 25_000;
/**
 * An edge drains in-flight requests for up to EDGE_DRAIN_TIMEOUT (its cluster primary waits that
 * plus 5 s for its workers), so its grace is longer by as much: a drain the operator set to
 * 2 minutes is not cut at 25 s.
 */
export const graceFor = (config: CommonConfig) =>
  'drainTimeoutMs' in config && typeof config.drainTimeoutMs === 'number'
    ? Math.max(SHUTDOWN_GRACE_MS, config.drainTimeoutMs + 10_000)
    : SHUTDOWN_GRACE_MS;

/** Starts `role` and runs until SIGTERM or SIGINT. Configuration errors throw before anything starts. */
export async function runRole(role: Role, env: NodeJS.ProcessEnv): Promise<void> {
  const { load, start } = ROLES[role];
  // An edge's cluster workers run this again with the same environment: the primary has warned.
  const unknown = cluster.isWorker ? [] : unknownVariableWarnings(env);
  let config: CommonConfig;
  try {
    config = load(env);
  } catch (error) {
    // A misspelled name is often why a variable is "required": say so next to the error.
    for (const warning of unknown) process.stderr.write(`certfleet: warning: ${warning}\n`);
    throw error;
  }
  const logger = createLogger({ role, level: config.logLevel });
  if (!cluster.isWorker) for (const warning of [...unknown, ...config.warnings]) logger.warn(warning);
  let running: Running;
  try {
    const startRole = (await start()) as (config: CommonConfig, logger: Logger) => Promise<Running>;
    running = await startRole(config, logger);
  } catch (error) {
    logger.fatal({ err: errorMessage(error) }, `${role} could not start`);
    logger.flush();
    throw error;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${role} stopping`);
    const graceMs = graceFor(config);
    const forced = setTimeout(() => {
      logger.error(`${role} did not stop within ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs);
    forced.unref();
    running.close().then(
      () => {
        logger.info(`${role} stopped`);
        logger.flush();
        process.exitCode = 0;
      },
      (error: unknown) => {
        logger.error({ err: errorMessage(error) }, `${role} stopped with an error`);
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
