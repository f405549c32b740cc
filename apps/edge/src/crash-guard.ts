import { errorMessage, type Logger } from '@certfleet/observability';

/**
 * The last resort: an exception or rejection that nothing handled. Per-request failures are
 * caught where they happen (the request alone fails); reaching here means a bug, and state may
 * be broken. Node would exit at once, cutting every visitor of this process mid-response. The
 * edge logs the error, turns not-ready (so a load balancer stops sending), drains what is in
 * flight and then exits non-zero, so its supervisor (the cluster primary, Kubernetes) starts a
 * fresh process. A second fatal error while draining changes nothing: the drain is bounded.
 */
export function guardProcess(options: { logger: Logger; onFatal: () => void }): () => void {
  let fatal = false;
  const handle = (kind: 'uncaughtException' | 'unhandledRejection') => (error: unknown) => {
    options.logger.fatal(
      { err: errorMessage(error), stack: error instanceof Error ? error.stack : undefined, kind },
      'unexpected error: draining, then exiting for a restart',
    );
    if (fatal) return;
    fatal = true;
    options.onFatal();
  };
  const onException = handle('uncaughtException');
  const onRejection = handle('unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
