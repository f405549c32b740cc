/**
 * The page's script: the Retry button, and nothing else (the rest is server-rendered HTML).
 * Served from /page/app.js (no inline script: the page's CSP allows only this origin's files).
 * It sends `PATCH /v1/hostnames/{name}` with `{"retry": true}` and the API token the operator
 * typed, kept in sessionStorage (this tab only), and shows what the API answered.
 */
export const APP_JS = `'use strict';
(() => {
  const box = document.getElementById('retry');
  if (!box) return;
  const KEY = 'certfleet-api-token';
  const input = document.getElementById('api-token');
  const button = document.getElementById('retry-button');
  const result = document.getElementById('retry-result');
  const name = box.dataset.hostname;
  input.value = sessionStorage.getItem(KEY) || '';
  const show = (field, value) => {
    const element = document.querySelector('[data-field="' + field + '"]');
    if (element) element.textContent = value;
  };
  button.addEventListener('click', async () => {
    const token = input.value.trim();
    if (!token) {
      result.textContent = 'Enter the API token (API_TOKEN) first.';
      input.focus();
      return;
    }
    button.disabled = true;
    result.textContent = 'Retrying…';
    try {
      const response = await fetch('/v1/hostnames/' + encodeURIComponent(name), {
        method: 'PATCH',
        headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
        body: JSON.stringify({ retry: true }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        if (response.status === 401 || response.status === 403) sessionStorage.removeItem(KEY);
        result.textContent = 'Not retried: ' + ((body && (body.detail || body.title)) || 'HTTP ' + response.status);
        return;
      }
      sessionStorage.setItem(KEY, token);
      show('status', body.status);
      show('certificate-status', body.certificate.status);
      result.textContent = 'Re-queued: ' + name + ' is ' + body.status + ', certificate ' + body.certificate.status + '.';
    } catch (error) {
      result.textContent = 'Not retried: ' + error.message;
    } finally {
      button.disabled = false;
    }
  });
})();
`;

/** The page's styles: the browser's own fonts (nothing fetched from elsewhere). */
export const STYLE_CSS = `:root { color-scheme: light dark; --line: #8884; --muted: #8889; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 0 1rem 3rem; }
header { display: flex; align-items: baseline; justify-content: space-between; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.2rem; } header a { color: inherit; text-decoration: none; }
h2 { font-size: 1.05rem; margin-top: 1.6rem; } h3 { font-size: 0.95rem; margin: 1.2rem 0 0.4rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 0.25rem 0.6rem 0.25rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
#counts ul { display: flex; flex-wrap: wrap; gap: 0.6rem; list-style: none; padding: 0; }
#counts li { border: 1px solid var(--line); border-radius: 6px; padding: 0.4rem 0.8rem; }
#counts a { color: inherit; text-decoration: none; } #counts b { font-size: 1.2rem; margin-left: 0.3rem; }
form#search { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; margin-top: 1.4rem; }
input, select, button { font: inherit; padding: 0.25rem 0.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1.2rem; } dt { color: var(--muted); } dd { margin: 0; }
.status.failed { color: #c33; } .status.active { color: #2a7; } .status.retired { color: var(--muted); }
#notice { border-left: 3px solid #c33; padding-left: 0.6rem; }
#hostname { border: 1px solid var(--line); border-radius: 8px; padding: 0 1rem 1rem; margin-top: 1.2rem; }
#retry-result { display: block; margin-top: 0.5rem; }
pre { overflow-x: auto; }
`;
