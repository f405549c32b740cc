import { parseEnv, variableNamesOf } from './env.js';
import { duration, int, onOff } from './fields.js';

const spec = {
  EDGE_HANDSHAKE_TIMEOUT: duration(100, 600_000).default('10s'),
  EDGE_HEADER_TIMEOUT: duration(100, 600_000).default('15s'),
  EDGE_REQUEST_TIMEOUT: duration(1_000, 3_600_000).default('5m'),
  EDGE_KEEPALIVE_TIMEOUT: duration(100, 600_000).default('20s'),
  EDGE_MAX_CONNECTIONS: int(1, 10_000_000, 'connections').default('10000'),
  EDGE_MAX_CONNECTIONS_PER_IP: int(1, 10_000_000, 'connections').default('512'),
  EDGE_HTTP2: onOff().default('on'),
};

/** The variables this module reads (see unknown-variables.ts). */
export const CONNECTION_VARIABLES: readonly string[] = variableNamesOf(spec);

/**
 * How much of an edge process one visitor can hold, and for how long. Node's defaults (a 120 s
 * handshake, 60 s for headers, no cap on connections) let one client with a few thousand idle
 * sockets starve every other visitor of a process.
 */
export interface ConnectionLimitsConfig {
  /** A connection whose TLS handshake has not finished by then is closed. */
  handshakeTimeoutMs: number;
  /** From a connection's first byte of a request to the end of its headers. */
  headerTimeoutMs: number;
  /** From a request's first byte to the end of its body (bounds a slow upload). */
  requestTimeoutMs: number;
  /** How long an idle kept-alive connection is kept. */
  keepAliveTimeoutMs: number;
  /** Open connections per process (HTTPS and HTTP each); the next ones are closed at once. */
  maxConnections: number;
  /** Open connections per client address (IPv6: per /64) per process; the next ones are closed at once. */
  maxConnectionsPerIp: number;
  /** ALPN offers `h2` besides `http/1.1` on the HTTPS port (EDGE_HTTP2); off = HTTP/1.1 only. */
  http2: boolean;
}

export function loadConnectionLimitsConfig(env: NodeJS.ProcessEnv, warnings: string[] = []): ConnectionLimitsConfig {
  const e = parseEnv(spec, env, warnings);
  return {
    handshakeTimeoutMs: e.EDGE_HANDSHAKE_TIMEOUT,
    headerTimeoutMs: e.EDGE_HEADER_TIMEOUT,
    requestTimeoutMs: e.EDGE_REQUEST_TIMEOUT,
    keepAliveTimeoutMs: e.EDGE_KEEPALIVE_TIMEOUT,
    maxConnections: e.EDGE_MAX_CONNECTIONS,
    maxConnectionsPerIp: e.EDGE_MAX_CONNECTIONS_PER_IP,
    http2: e.EDGE_HTTP2,
  };
}
