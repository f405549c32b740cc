import type { CommonConfig } from '@certfleet/config';
import { checkAllowlistEntry, checkHostname } from '@certfleet/domain';
import { connectTo, createStore, permanentConnectionProblem, type RedisClient, type Store, type StoreOptions } from '@certfleet/store';

/**
 * Runs `work` with a store for the deployment in `config`, then closes the connection. `redis`
 * is the store's connection, for BullMQ (with `store.queuePrefix`) and nothing else. Without a
 * keyring in `options`, the store reads and writes nothing that holds key material. A
 * connection error that retrying cannot cure (an untrusted TLS certificate, a missing client
 * certificate, refused credentials) ends the command at once, saying which variable to set.
 */
export async function withStore<T>(
  config: CommonConfig,
  work: (store: Store, redis: RedisClient) => Promise<T>,
  options: StoreOptions = {},
): Promise<T> {
  // A command that waits longer than this for an answer fails (a connected but stuck Redis).
  const redis = connectTo(config.redis, { connectionName: 'certfleet-cli', commandTimeoutMs: 5_000 });
  let lastError: unknown;
  const refused = new Promise<never>((_, reject) =>
    redis.on('error', (error: unknown) => {
      lastError = error;
      const problem = permanentConnectionProblem(error);
      if (problem) reject(new RedisConnectionError(`cannot use Redis at ${config.redis.description}: ${problem}`, { cause: error }));
    }),
  );
  refused.catch(() => undefined);
  try {
    await Promise.race([connected(redis, config.redis, () => lastError), refused]);
    return await Promise.race([work(createStore(redis, config.prefix, options), redis), refused]);
  } catch (error) {
    // "Command timed out" says nothing of why: name the connection's own error when there was one.
    if (error instanceof Error && error.message === 'Command timed out' && lastError instanceof Error) {
      throw new RedisConnectionError(`cannot reach Redis at ${config.redis.description}: ${lastError.message}`, { cause: lastError });
    }
    throw error;
  } finally {
    redis.disconnect();
  }
}

/**
 * How long a command waits for its first connection before it gives up. A reachable Redis,
 * even over TLS or through Sentinel, is ready in milliseconds; an unreachable one used to end
 * every command after the 5 s command timeout with only "Command timed out" (issue 13). The
 * client keeps retrying meanwhile, so a Redis that is restarting still gets its chance.
 */
const CONNECT_DEADLINE_MS = 1_500;

/** Resolves once `redis` is ready; rejects after {@link CONNECT_DEADLINE_MS}, naming the address and the last error. */
function connected(redis: RedisClient, target: CommonConfig['redis'], lastError: () => unknown): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const last = lastError();
      reject(new RedisConnectionError(unreachableMessage(target, last), { cause: last }));
    }, CONNECT_DEADLINE_MS);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** What a command says when no connection was ready within {@link CONNECT_DEADLINE_MS}. */
export function unreachableMessage(target: Pick<CommonConfig['redis'], 'description' | 'tls'>, last: unknown): string {
  const why = last instanceof Error ? ` (${last.message || (last as NodeJS.ErrnoException).code || last.name})` : '';
  // TLS 1.3 ends the handshake before the server has checked the client's certificate: a server
  // that requires one then closes the connection, and the client sees the alert or, as often,
  // only a reset of its first write.
  if (target.tls !== undefined && !target.tls.cert && (last as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET') {
    return `cannot use Redis at ${target.description}: it closed every TLS connection${why}, as a server that requires a client certificate does: set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE (or, if it needs none, check that it is up)`;
  }
  return (
    `cannot reach Redis at ${target.description} within ${CONNECT_DEADLINE_MS / 1000} s${why}: start Redis there, ` +
    'or point REDIS_URL (REDIS_SENTINELS or REDIS_CLUSTER_NODES for those topologies) and CERTFLEET_PREFIX at your deployment'
  );
}

/** Redis could not be used: the message names the address and, when known, what to set. */
class RedisConnectionError extends Error {}

export interface NameSplit {
  valid: string[];
  invalid: { input: string; reason: string }[];
}

/**
 * Normalises names given on the command line; the invalid ones come back with the rule they
 * broke. With `entries`, `*.suffix` allowlist entries are accepted too.
 */
export function splitNames(inputs: readonly string[], options: { entries?: boolean } = {}): NameSplit {
  const split: NameSplit = { valid: [], invalid: [] };
  for (const input of inputs) {
    const check = options.entries ? checkAllowlistEntry(input) : checkHostname(input);
    if (check.ok) split.valid.push(check.name);
    else split.invalid.push({ input, reason: check.reason });
  }
  return split;
}

export function formatTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-';
}

/** Left-aligned columns, for terminal tables. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A mistake in what the user asked for: printed as one line, exit code 1. */
export class UsageError extends Error {}
