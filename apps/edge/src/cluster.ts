import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { EdgeConfig } from '@certfleet/config';
import { serveClusterMetrics, type Logger } from '@certfleet/observability';
import type { RunningEdge } from './edge.js';
import { listenModeFor, WORKER_LISTENING } from './listen-mode.js';

/** A worker that dies sooner than this after its start counts as crashing: restarts slow down. */
const STABLE_AFTER_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Starts the edge as configured: in this process when `config.workers` is 1, else as a node:cluster
 * primary with that many worker processes sharing the listening ports (OpenSSL and the proxy
 * are single-threaded per process; this is how an edge uses every core). The primary only
 * supervises: it restarts a worker that dies, serves the workers' metrics added up, and on close
 * asks every worker to drain and waits for them.
 */
export async function startEdgeRole(config: EdgeConfig, logger: Logger): Promise<{ close(): Promise<void> }> {
  // The primary only supervises: it does not load the edge's modules (bullmq, ioredis, ...),
  // so workers start sooner.
  if (config.workers <= 1) return (await import('./edge.js')).startEdge(config, logger);
  if (cluster.isWorker) return startEdgeWorker(config, logger);
  return startEdgePrimary(config, logger);
}

async function startEdgeWorker(config: EdgeConfig, logger: Logger): Promise<RunningEdge> {
  const { startEdge } = await import('./edge.js');
  const edge = await startEdge({ ...config, metricsPort: undefined }, logger, { clusterWorker: true });
  return {
    ...edge,
    async close() {
      await edge.close();
      // The IPC channel to the primary would keep this process alive.
      cluster.worker?.disconnect();
    },
  };
}

async function startEdgePrimary(config: EdgeConfig, logger: Logger): Promise<{ close(): Promise<void> }> {
  const mode = listenModeFor();
  // Without reusePort, workers still accept for themselves from one shared socket: never the
  // default round robin, where the primary hands every connection over (set before any fork).
  if (mode === 'shared-socket') cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  const workers = new Set<Worker>();
  // Doubles (from 1 s) while workers keep dying soon after they start; back to 1 s once one lasted.
  let restartDelayMs = 500;

  const fork = (): Worker => {
    const worker = cluster.fork();
    const startedAt = Date.now();
    workers.add(worker);
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      const crashedFast = Date.now() - startedAt < STABLE_AFTER_MS;
      restartDelayMs = crashedFast ? Math.min(restartDelayMs * 2, MAX_RESTART_DELAY_MS) : 1_000;
      logger.error({ workerPid: worker.process.pid, code, signal, restartInMs: restartDelayMs }, 'edge worker died; starting another');
      setTimeout(() => {
        if (!stopping) fork();
      }, restartDelayMs).unref();
    });
    return worker;
  };

  const listening = Array.from({ length: config.workers }, () => {
    const worker = fork();
    return new Promise<void>((resolve, reject) => {
      const onMessage = (message: { type?: string }) => {
        if (message?.type !== WORKER_LISTENING) return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('exit', (code) => reject(new Error(`an edge worker exited with code ${code} before listening; see its log above`)));
    });
  });
  await Promise.all(listening);
  const metricsServer: Server | undefined =
    config.metricsPort === undefined ? undefined : await serveClusterMetrics(config.metricsPort, config.metricsBindAddress);
  logger.info(
    {
      workers: config.workers,
      balancing: mode === 'reuse-port' ? 'kernel (a socket per worker)' : 'one shared socket',
      httpsPort: config.httpsPort,
      httpPort: config.httpPort,
      upstream: config.upstreamUrl.href,
    },
    'edge listening',
  );

  return {
    async close() {
      stopping = true;
      const exited = [...workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      );
      // Workers drain for up to drainTimeoutMs; give them a little more to exit, then stop them.
      const forced = setTimeout(() => {
        for (const worker of workers) worker.process.kill('SIGKILL');
      }, config.drainTimeoutMs + 5_000);
      await Promise.all(exited);
      clearTimeout(forced);
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      logger.info('every edge worker stopped');
    },
  };
}
