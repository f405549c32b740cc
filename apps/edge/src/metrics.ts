import { Counter, Gauge, type Registry } from '@certfleet/observability';

/** What the edge counts. Labels are small fixed sets, never names or addresses. */
export function createEdgeMetrics(registry: Registry) {
  return {
    certificates: new Counter({
      name: 'certfleet_edge_certificates_served_total',
      help: "Handshakes by where their certificate came from: memory, local (the edge's local store), store (Redis), issued, fallback",
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'certfleet_policy_decisions_total',
      help: 'Fresh domain-policy evaluations by deciding policy and outcome (cached decisions are not counted)',
      labelNames: ['policy', 'outcome'] as const,
      registers: [registry],
    }),
    handshakes: new Counter({
      name: 'certfleet_edge_tls_handshakes_total',
      help: 'Completed TLS handshakes, by whether they resumed a session (a ticket from any edge of the fleet)',
      labelNames: ['resumed'] as const,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'certfleet_edge_requests_total',
      help: 'Requests received on the HTTPS port, by protocol: http/1.1 (websocket upgrades included) or h2 (one per stream; streams the client reset at once are not counted)',
      labelNames: ['protocol'] as const,
      registers: [registry],
    }),
    proxyAnswers: new Counter({
      name: 'certfleet_edge_proxy_answers_total',
      help: 'Requests the edge answered itself instead of the upstream: refused, no-address, internal (502), timeout, queue-timeout (504), misdirected, no-certificate (421), bad-request (400)',
      labelNames: ['answer'] as const,
      registers: [registry],
    }),
    upstreamRetries: new Counter({
      name: 'certfleet_edge_upstream_retries_total',
      help: 'Requests sent again to an upstream: connect_failed (to another address), stale_keepalive (a kept-alive connection closed under them)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    droppedResponseHeaders: new Counter({
      name: 'certfleet_edge_upstream_headers_dropped_total',
      help: 'Response headers from upstreams dropped because their name or value is not valid HTTP',
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'certfleet_edge_connections_refused_total',
      help: 'Connections closed at once because a limit was reached: max_connections (EDGE_MAX_CONNECTIONS), per_ip (EDGE_MAX_CONNECTIONS_PER_IP)',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    connectionsClosed: new Counter({
      name: 'certfleet_edge_connections_closed_total',
      help: 'Connections the edge closed: handshake_timeout (no TLS handshake within EDGE_HANDSHAKE_TIMEOUT), http2_error (an h2 session ended on a protocol error or a limit: rapid reset, invalid frames, refused streams), http2_idle (an h2 connection with no stream open for EDGE_KEEPALIVE_TIMEOUT)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    limited: new Counter({
      name: 'certfleet_edge_limited_total',
      help: 'Handshakes served the fallback at once because an abuse limit was reached: new_names_per_ip_local and new_names_process in memory, new_names_per_ip and new_names_fleet in Redis, pending_issues, waiting_handshakes',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    refusedNameHits: new Counter({
      name: 'certfleet_edge_refused_name_hits_total',
      help: 'Handshakes served the fallback from the short in-process memory of names just denied or limited, with no Redis read',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    localStoreEvictions: new Counter({
      name: 'certfleet_edge_local_store_evictions_total',
      help: "Certificates evicted from the edge's local store (oldest served first) to keep it under EDGE_LOCAL_STORE_MB",
      registers: [registry],
    }),
  };
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>;
/** `local`: this edge's local store (a name one of its processes served, before a restart too). */
export type CertificateSource = 'memory' | 'local' | 'store' | 'issued' | 'fallback';
/**
 * Which limit refused a handshake. `_local` and `_process` are this process's buckets in memory
 * (checked first, no I/O); `new_names_per_ip` and `new_names_fleet` are the fleet's, in Redis.
 */
export type LimitName =
  | 'new_names_per_ip_local'
  | 'new_names_process'
  | 'new_names_per_ip'
  | 'new_names_fleet'
  | 'pending_issues'
  | 'waiting_handshakes';

/**
 * `certfleet_edge_ready`: 1 while `/readyz` would answer ready (see edge.ts `readiness`), read at
 * each scrape. With several workers the primary shows the lowest: an edge is ready only when all
 * its workers are.
 */
export function exportReadiness(registry: Registry, readiness: () => { ready: boolean }): void {
  new Gauge({
    name: 'certfleet_edge_ready',
    help: 'Whether this edge should be sent traffic (as /readyz): 1 ready, 0 not (draining, crashed, Redis unreachable)',
    registers: [registry],
    aggregator: 'min',
    collect() {
      this.set(readiness().ready ? 1 : 0);
    },
  });
}
