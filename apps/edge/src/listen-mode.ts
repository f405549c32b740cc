/**
 * How an edge's worker processes share the listening ports.
 *
 * node:cluster's default hands every connection from the primary to a worker (round robin over
 * IPC): measured here, that hand-off cost half the edge's handshake capacity (302 full
 * handshakes per CPU-second with it, 577 without; FIELD-NOTES). With `reusePort` (Node 22.12+,
 * 23.1+) each worker binds a socket of its own to the port (SO_REUSEPORT) and the kernel
 * balances new connections over them: the primary never touches a connection. Older Nodes get
 * SCHED_NONE instead: one socket, every worker accepting from it.
 */
export type ListenMode = 'reuse-port' | 'shared-socket';

export function listenModeFor(nodeVersion: string = process.versions.node): ListenMode {
  const [major = 0, minor = 0] = nodeVersion.split('.').map(Number);
  const reusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  return reusePort ? 'reuse-port' : 'shared-socket';
}

/** The IPC message a worker sends its primary once both its ports listen (with reusePort, the primary sees no 'listening' event). */
export const WORKER_LISTENING = 'certfleet:edge-worker-listening';
