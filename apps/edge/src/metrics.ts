import { Counter, type Registry } from '@certfleet/observability';

/** What the edge counts. Labels are small fixed sets, never names or addresses. */
export function createEdgeMetrics(registry: Registry) {
  return {
    certificates: new Counter({
      name: 'certfleet_edge_certificates_served_total',
      help: 'Handshakes by where their certificate came from',
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
    proxyAnswers: new Counter({
      name: 'certfleet_edge_proxy_answers_total',
      help: "Requests the edge answered itself instead of the upstream: refused (502), no-address (502), timeout (504), misdirected (421)",
      labelNames: ['answer'] as const,
      registers: [registry],
    }),
    upstreamRetries: new Counter({
      name: 'certfleet_edge_upstream_retries_total',
      help: 'Requests sent again to an upstream: connect_failed (to another address), stale_keepalive (a kept-alive connection closed under them)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    limited: new Counter({
      name: 'certfleet_edge_limited_total',
      help: 'Handshakes served the fallback at once because an abuse limit was reached',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
  };
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>;
export type CertificateSource = 'memory' | 'store' | 'issued' | 'fallback';
export type LimitName = 'new_names_per_ip' | 'new_names_fleet' | 'pending_issues' | 'waiting_handshakes';
