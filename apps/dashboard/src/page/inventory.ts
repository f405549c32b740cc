import { HOSTNAME_STATUSES, type HostnameObject, type HostnameStatus } from '@certfleet/hostnames';
import { esc, query, time } from './html.js';

const PROBLEM_PREFIX = 'urn:ietf:params:acme:error:';

/** What the inventory page shows; each part is optional so an error in one still shows the rest. */
export interface InventoryView {
  counts: Record<HostnameStatus | 'total', number> | null;
  expiring: HostnameObject[];
  search: { q: string; status: HostnameStatus | '' };
  results: { hostnames: HostnameObject[]; next: string | null } | null;
  selected: HostnameObject | null;
  /** A message about the request (a bad filter, an unknown hostname), shown above the results. */
  notice: string | null;
}

function countsSection(counts: InventoryView['counts']): string {
  if (!counts) return '';
  const items = HOSTNAME_STATUSES.map(
    (status) =>
      `<li class="count ${status}"><a href="/${esc(query({ status }))}"><span>${status}</span> <b data-count="${status}">${counts[status]}</b></a></li>`,
  );
  return `<section id="counts" aria-label="hostnames by status"><ul>${items.join('')}<li class="count total"><span>total</span> <b data-count="total">${counts.total}</b></li></ul></section>`;
}

function expiringSection(expiring: HostnameObject[]): string {
  const rows = expiring.map(
    (h) =>
      `<tr><td><a href="/${esc(query({ host: h.hostname }))}">${esc(h.hostname)}</a></td><td>${time(h.certificate.not_after)}</td><td>${esc(h.certificate.status)}</td><td>${time(h.certificate.renewal_at)}</td></tr>`,
  );
  return `<section id="expiring"><h2>Soonest expiries</h2>${
    rows.length
      ? `<table><thead><tr><th>hostname</th><th>not after</th><th>certificate</th><th>renewal at</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
      : '<p>No certificates yet.</p>'
  }</section>`;
}

function searchForm(search: InventoryView['search']): string {
  const options = ['', ...HOSTNAME_STATUSES].map(
    (status) => `<option value="${status}"${status === search.status ? ' selected' : ''}>${status || 'any'}</option>`,
  );
  return `<form id="search" method="get" action="/" role="search">
<label>Hostname starts with <input name="q" value="${esc(search.q)}" maxlength="253" autocomplete="off" spellcheck="false"></label>
<label>Status <select name="status">${options.join('')}</select></label>
<button type="submit">Search</button>
</form>`;
}

/** Why a listed name waits, in a few words: a budget hold, a cool-down, or how many validation errors. */
function note(h: HostnameObject): string {
  if (h.hold) return `held by ${esc(h.hold.budget)} until ${time(h.hold.until)}`;
  if (h.cooldown_until) return `cooling down until ${time(h.cooldown_until)}`;
  const errors = h.validation_errors.length;
  return errors ? `${errors} validation error${errors === 1 ? '' : 's'}` : '';
}

function resultsSection(results: InventoryView['results'], search: InventoryView['search']): string {
  if (!results) return '';
  const rows = results.hostnames.map(
    (h) =>
      `<tr><td><a href="/${esc(query({ q: search.q, status: search.status, host: h.hostname }))}">${esc(h.hostname)}</a></td><td class="status ${esc(h.status)}">${esc(h.status)}</td><td>${esc(h.certificate.status)}</td><td>${time(h.certificate.not_after)}</td><td>${note(h)}</td></tr>`,
  );
  const next = results.next
    ? `<p><a id="next-page" href="/${esc(query({ q: search.q, status: search.status, cursor: results.next }))}">next page</a></p>`
    : '';
  return `<section id="results"><h2>Hostnames</h2>${
    rows.length
      ? `<table><thead><tr><th>hostname</th><th>status</th><th>certificate</th><th>not after</th><th>note</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
      : '<p>No hostname matches.</p>'
  }${next}</section>`;
}

/** One hostname object, readably: statuses, certificate, what holds it back, its errors, and Retry. */
export function hostnameSection(h: HostnameObject): string {
  const c = h.certificate;
  const field = (label: string, value: string) => `<dt>${label}</dt><dd>${value}</dd>`;
  const errors = h.validation_errors.map(
    (e) => `<tr><td>${time(e.at)}</td><td>${esc(e.type.replace(PROBLEM_PREFIX, ''))}</td><td>${esc(e.detail)}</td></tr>`,
  );
  return `<section id="hostname" data-hostname="${esc(h.hostname)}">
<h2>${esc(h.hostname)}</h2>
<dl>
${field('status', `<span class="status ${esc(h.status)}" data-field="status">${esc(h.status)}</span>`)}
${field('certificate', `<span data-field="certificate-status">${esc(c.status)}</span>`)}
${field('serial', `<code data-field="serial">${esc(c.serial ?? '–')}</code>`)}
${field('not before', time(c.not_before))}
${field('not after', `<span data-field="not-after">${time(c.not_after)}</span>`)}
${field('issuer', esc(c.issuer ?? '–'))}
${field('key types', esc(c.key_types.join(', ') || '–'))}
${field('renewal at', time(c.renewal_at))}
${field('last renewed', time(c.last_renewed_at))}
${field('cool-down until', time(h.cooldown_until))}
${field('held by', h.hold ? `CA budget <code>${esc(h.hold.budget)}</code> until ${time(h.hold.until)}` : '–')}
${h.dns ? field('DNS', `CNAME target <code>${esc(h.dns.cname_target)}</code>, seen: ${esc(h.dns.observed.join(', ') || 'nothing')}`) : ''}
${field('upstream', esc(h.upstream ?? 'default'))}
${field('created', time(h.created_at))}
${field('updated', time(h.updated_at))}
</dl>
<h3>Validation errors</h3>
${
  errors.length
    ? `<table id="validation-errors"><thead><tr><th>at</th><th>type</th><th>what to do</th></tr></thead><tbody>${errors.join('')}</tbody></table>`
    : '<p id="validation-errors">None.</p>'
}
${h.custom_metadata ? `<h3>Custom metadata</h3><pre>${esc(JSON.stringify(h.custom_metadata, null, 2))}</pre>` : ''}
<div id="retry" data-hostname="${esc(h.hostname)}">
<h3>Retry</h3>
<p>Clears a cool-down or a failure and orders a certificate now, through <code>PATCH /v1/hostnames/${esc(h.hostname)}</code>: it needs the API token (API_TOKEN), kept in this tab only.</p>
<label>API token <input id="api-token" type="password" autocomplete="off"></label>
<button id="retry-button" type="button">Retry</button>
<output id="retry-result" role="status"></output>
</div>
</section>`;
}

export function inventoryPage(view: InventoryView): string {
  return [
    countsSection(view.counts),
    view.notice ? `<p id="notice" role="alert">${esc(view.notice)}</p>` : '',
    view.selected ? hostnameSection(view.selected) : '',
    searchForm(view.search),
    resultsSection(view.results, view.search),
    expiringSection(view.expiring),
  ].join('\n');
}
