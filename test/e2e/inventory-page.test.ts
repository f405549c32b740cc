import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startRole } from '../support/certfleet.js';
import { ordersFor } from '../support/pebble.js';
import { freePort, type Proc } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

const DASHBOARD_TOKEN = 'a-dashboard-token-for-the-page';
const API_TOKEN = 'an-api-token-for-the-inventory-page';
const GOOD = 'good.example.com';
const BAD = 'bad.example.com';

interface Status {
  hostname: { status: string; certificate: { serial: string | null; not_after: string | null }; validation_errors: { type: string }[] };
}

/**
 * The inventory page in a real browser (Debian's Chromium, driven by playwright-core): log in,
 * find a hostname, see its certificate, press Retry on a failed one and see it ordered again.
 * The names get their state the real way: an issuer orders from Pebble, one validation fails.
 */
describe('the inventory page in Chromium', () => {
  let stack: Stack;
  let dashboard: Proc;
  let browser: Browser;
  let context: BrowserContext;
  let base: string;
  /** Every URL the browser asked for, to check none left the dashboard's origin. */
  const requested: string[] = [];
  /** Console errors (a CSP violation is one). */
  const consoleErrors: string[] = [];

  const status = async (name: string) => JSON.parse((await cli(['domains', 'status', name, '--json'], stack.env)).stdout) as Status;

  beforeAll(async () => {
    stack = await startStack({ edges: 1, issuers: 1 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    dashboard = await startRole('dashboard', {
      ...stack.env,
      DASHBOARD_PORT: String(port),
      DASHBOARD_BIND: '127.0.0.1',
      DASHBOARD_TOKEN,
      API_TOKEN,
    });
    // Pebble validates http-01 for the bad name at 127.0.0.2, where nothing listens.
    await stack.pebble.challtest('add-a', { host: `${BAD}.`, addresses: ['127.0.0.2'] });
    const added = await cli(['domains', 'add', '--issue', GOOD, BAD], stack.env);
    expect(added.code, added.stderr).toBe(0);
    await until('the good name is active', async () => (await status(GOOD)).hostname.status === 'active', 60_000, 250);
    await until('the bad name failed', async () => (await status(BAD)).hostname.validation_errors.length > 0, 60_000, 250);

    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    // Logging in: the dashboard asks a browser for its token by HTTP basic auth.
    context = await browser.newContext({ httpCredentials: { username: 'operator', password: DASHBOARD_TOKEN } });
    context.on('request', (request) => requested.push(request.url()));
    context.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
    await stack?.stop();
  });

  const open = async (path = '/'): Promise<Page> => {
    const page = await context.newPage();
    const response = await page.goto(`${base}${path}`);
    expect(response?.status()).toBe(200);
    return page;
  };

  it('asks a visitor without the dashboard token to log in', async () => {
    // (Chromium gives up on a 401 that asks for credentials it was not given: asked without a browser.)
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
  });

  it('shows counts by status and the soonest expiries', async () => {
    const page = await open();
    expect(await page.textContent('[data-count="active"]')).toBe('1');
    expect(await page.textContent('[data-count="failed"]')).toBe('1');
    expect(await page.textContent('[data-count="total"]')).toBe('2');
    expect(await page.textContent('#expiring')).toContain(GOOD);
    await page.close();
  });

  it('finds a hostname by prefix and shows its certificate', async () => {
    const page = await open();
    await page.fill('input[name="q"]', 'goo');
    await Promise.all([page.waitForURL(/q=goo/), page.click('#search button[type="submit"]')]);
    const rows = await page.locator('#results tbody tr').allTextContents();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(GOOD);
    await Promise.all([page.waitForURL(/host=good\.example\.com/), page.click(`#results a:has-text("${GOOD}")`)]);
    const expected = (await status(GOOD)).hostname.certificate;
    expect(await page.textContent('[data-field="status"]')).toBe('active');
    expect(await page.textContent('[data-field="certificate-status"]')).toBe('active');
    expect(await page.textContent('[data-field="serial"]')).toBe(expected.serial);
    expect(await page.textContent('[data-field="not-after"]')).toBe(expected.not_after?.replace(/\.\d{3}Z$/, 'Z'));
    await page.close();
  });

  it('shows a failed hostname with its validation error, and Retry orders it again', async () => {
    const page = await open();
    await page.selectOption('select[name="status"]', 'failed');
    await Promise.all([page.waitForURL(/status=failed/), page.click('#search button[type="submit"]')]);
    await Promise.all([page.waitForURL(/host=bad\.example\.com/), page.click(`#results a:has-text("${BAD}")`)]);
    expect(await page.textContent('[data-field="status"]')).toBe('failed');
    expect(await page.textContent('#validation-errors')).toMatch(/connection|unauthorized|dns/);

    // Without a token, or with the dashboard's, nothing is retried.
    await page.click('#retry-button');
    expect(await page.textContent('#retry-result')).toBe('Enter the API token (API_TOKEN) first.');
    await page.fill('#api-token', DASHBOARD_TOKEN);
    await page.click('#retry-button');
    await page.locator('#retry-result', { hasText: /^Not retried: / }).waitFor();

    const ordersBefore = ordersFor(stack.pebble, BAD);
    await page.fill('#api-token', API_TOKEN);
    await page.click('#retry-button');
    await page.locator('#retry-result', { hasText: /^Re-queued: / }).waitFor();
    expect(await page.textContent('#retry-result')).toMatch(/^Re-queued: bad\.example\.com is \w+, certificate \w+\.$/);
    // Re-queued for real: the issuer orders again and the CA validates once more.
    await until('a new order for the retried name', () => ordersFor(stack.pebble, BAD) > ordersBefore, 60_000, 250);
    await page.close();
  });

  it('says what is wrong with a bad filter or an unknown hostname', async () => {
    const page = await context.newPage();
    expect((await page.goto(`${base}/?status=bogus&cursor=tampered`))?.status()).toBe(400);
    expect(await page.textContent('#notice')).toMatch(/status must be one of pending, active, failed, retired, got "bogus".*cursor/);
    expect((await page.goto(`${base}/?host=nobody.example.com`))?.status()).toBe(404);
    expect(await page.textContent('#notice')).toContain('nobody.example.com is not a registered hostname');
    await page.close();
  });

  it('loads nothing from another origin, on the page and on bull-board, and breaks no CSP rule', async () => {
    for (const path of ['/', `/?host=${BAD}`, '/queues']) {
      const page = await open(path);
      await page.waitForLoadState('networkidle');
      await page.close();
    }
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
    expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
    const html = await (await fetch(`${base}/queues`, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` } })).text();
    expect(html).toContain('<title>');
    expect(html).not.toMatch(/https?:\/\//);
  });
});
