import { Counter, type Registry } from '@certfleet/observability';

/** `certfleet_api_requests_total{route,status}`: route is METHOD and the route's pattern, never a hostname (bounded labels). */
export function apiRequestCounter(registry: Registry): Counter<'route' | 'status'> {
  return new Counter({
    name: 'certfleet_api_requests_total',
    help: 'Requests to the /v1 hostname API, by route (method and pattern) and HTTP status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
}
