import { HOSTNAME_STATUSES, type HostnameObject, type HostnameService, type HostnameStatus } from '@certfleet/hostnames';

/**
 * What `domains ls --state` lists: a hostname status of the API (`failed` is every name whose
 * last validation failed, cooling down or refused for good), or one of two narrower views:
 * `cooling` (failed, waiting out a cool-down) and `held` (pending, held by a spent CA budget).
 */
export type ListState = HostnameStatus | 'cooling' | 'held';
export const LIST_STATES: readonly ListState[] = [...HOSTNAME_STATUSES, 'cooling', 'held'];

const VIEWS: Record<ListState, { status: HostnameStatus; keep: (h: HostnameObject) => boolean }> = {
  pending: { status: 'pending', keep: () => true },
  active: { status: 'active', keep: () => true },
  failed: { status: 'failed', keep: () => true },
  retired: { status: 'retired', keep: () => true },
  cooling: { status: 'failed', keep: (h) => h.cooldown_until !== null },
  held: { status: 'pending', keep: (h) => Boolean(h.hold) },
};

export interface ListedPage {
  hostnames: HostnameObject[];
  /** Pass as --cursor for the next page; null when the index has nothing more. */
  next: string | null;
}

/**
 * Up to `limit` hostnames in `state`, in name order, from the status index (no scan). The two
 * narrower views filter their status's pages; each page asked for is only as long as what is
 * still missing, so the cursor handed back never skips a name.
 */
export async function listByState(
  service: Pick<HostnameService, 'list'>,
  options: { state: ListState; limit: number; cursor?: string | undefined; q?: string | undefined },
): Promise<ListedPage> {
  const view = VIEWS[options.state];
  const found: HostnameObject[] = [];
  let cursor = options.cursor;
  for (;;) {
    const page = await service.list({ status: view.status, limit: options.limit - found.length, cursor, q: options.q });
    found.push(...page.hostnames.filter(view.keep));
    if (page.next_cursor === null || found.length >= options.limit) return { hostnames: found, next: page.next_cursor };
    cursor = page.next_cursor;
  }
}

/** One line of detail for a listed hostname: what holds it back, or its certificate's expiry. */
export function detailOf(h: HostnameObject): string {
  if (h.hold) return `held by CA budget ${h.hold.budget} until ${h.hold.until}`;
  const error = h.validation_errors[0];
  const why = error ? `${error.type.replace('urn:ietf:params:acme:error:', '')}: ${error.detail}` : '';
  if (h.cooldown_until) return `cooling down until ${h.cooldown_until}${why ? `; ${why}` : ''}`;
  if (why) return why;
  return h.certificate.not_after ? `not after ${h.certificate.not_after}` : '-';
}
