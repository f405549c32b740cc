/** Text made safe for HTML content and double-quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A query string from the parameters that are set, for links that keep the search. */
export function query(params: Record<string, string | undefined>): string {
  const set = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '');
  return set.length ? `?${new URLSearchParams(set).toString()}` : '';
}

/** An ISO time as shown on the page (seconds, UTC), or a dash. */
export const time = (iso: string | null | undefined) => (iso ? esc(iso.replace(/\.\d{3}Z$/, 'Z')) : '–');

/**
 * The page around `body`. No inline script or style and nothing from another origin: the
 * page's own CSP (see routes.ts) allows only this origin's /page/ assets.
 */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/page/style.css">
<script src="/page/app.js" defer></script>
</head>
<body>
<header><h1><a href="/">certfleet hostnames</a></h1><nav><a href="/queues">issue queue</a></nav></header>
<main>
${body}
</main>
</body>
</html>
`;
}
