// Container health probe: `node /app/healthcheck.mjs URL [WAIT_SECONDS]`.
// Exits 0 as soon as GET URL answers 2xx, 1 otherwise. With WAIT_SECONDS it keeps trying once a
// second for that long (compose uses this as a one-shot "is Pebble up?" gate).
// Why a script: the runtime image is node:*-slim, which has neither curl nor wget, and an inline
// `node -e` one-liner inside YAML is hard to read and to quote.
// https:// URLs are verified normally; trust extra CAs with NODE_EXTRA_CA_CERTS (read at start-up).
const [url, waitArg = '0'] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: node healthcheck.mjs URL [WAIT_SECONDS]\n');
  process.exit(2);
}
const deadline = Date.now() + Number(waitArg) * 1000;

for (;;) {
  let problem;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000), redirect: 'manual' });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) process.exit(0);
    problem = `HTTP ${response.status}`;
  } catch (error) {
    problem = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(error);
  }
  if (Date.now() >= deadline) {
    process.stderr.write(`healthcheck: ${url}: ${problem}\n`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
