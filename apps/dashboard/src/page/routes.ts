import type { FastifyInstance } from 'fastify';
import { HOSTNAME_STATUSES, HostnameError, type HostnameService, type HostnameStatus } from '@certfleet/hostnames';
import { APP_JS, STYLE_CSS } from './assets.js';
import { layout } from './html.js';
import { type InventoryView, inventoryPage } from './inventory.js';

export interface InventoryPageDeps {
  /** The hostname service the /v1 API serves from: the page shows the same objects. */
  service: Pick<HostnameService, 'list' | 'get'>;
  /** Hostnames per status, from the registry's status indexes (ZCARDs, no scan). */
  counts: () => Promise<Record<HostnameStatus | 'total', number>>;
}

/** Rows per page of search results, and soonest expiries shown. */
const PAGE_SIZE = 50;
const EXPIRING_SHOWN = 10;
/** "Soonest expiries" lists every certificate by expiry: the latest time a Date can hold (test CAs issue for years). */
const NO_HORIZON = 8.64e15;

/**
 * Tighter than the dashboard's own header (frame-ancestors only): bull-board needs inline
 * script, this page does not; the only script is /page/app.js, the only request /v1 on this origin.
 */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The inventory page at `/`: counts by status, a search by name prefix and status, one hostname
 * readably (certificate, hold, validation errors) with a Retry button, and the soonest expiries.
 * Server-rendered from the service the /v1 API uses; the Retry button calls PATCH /v1 with the
 * API token (the dashboard token only lets one look). Bad input (a status that does not exist,
 * a tampered cursor, an unknown or invalid name) is said on the page with a 400 or 404.
 */
export function registerInventoryPage(app: FastifyInstance, deps: InventoryPageDeps): void {
  app.get('/page/app.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(APP_JS),
  );
  app.get('/page/style.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(STYLE_CSS),
  );

  app.get<{ Querystring: Record<string, unknown> }>('/', async (request, reply) => {
    const params = request.query ?? {};
    const notices: string[] = [];
    let code = 200;
    const fail = (error: unknown) => {
      if (!(error instanceof HostnameError)) throw error;
      notices.push(error.message);
      code = Math.max(code, error.status);
      return null;
    };

    const q = text(params.q)?.trim() ?? '';
    const rawStatus = text(params.status) ?? '';
    const status = (HOSTNAME_STATUSES as readonly string[]).includes(rawStatus) ? (rawStatus as HostnameStatus) : '';
    if (rawStatus && !status) {
      notices.push(`status must be one of ${HOSTNAME_STATUSES.join(', ')}, got "${rawStatus.slice(0, 40)}"`);
      code = 400;
    }
    const host = text(params.host);
    const cursor = text(params.cursor);

    const [counts, expiring, results, selected] = await Promise.all([
      deps.counts(),
      deps.service.list({ expiring_before: NO_HORIZON, limit: EXPIRING_SHOWN }).then((page) => page.hostnames, fail),
      deps.service
        .list({ q: q || undefined, status: status || undefined, cursor, limit: PAGE_SIZE })
        .then((page) => ({ hostnames: page.hostnames, next: page.next_cursor }), fail),
      host ? deps.service.get(host).catch(fail) : Promise.resolve(null),
    ]);
    const view: InventoryView = {
      counts,
      expiring: expiring ?? [],
      search: { q, status },
      results,
      selected,
      notice: notices.length ? notices.join('; ') : null,
    };
    return reply
      .code(code)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_CSP)
      .header('cache-control', 'no-store')
      .send(layout(selected ? `${selected.hostname} · certfleet` : 'certfleet hostnames', inventoryPage(view)));
  });
}
