import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestIssuance } from '@certfleet/queue';
import { cli } from '../support/certfleet.js';
import { startPebble, type Pebble } from '../support/pebble.js';
import { startStack, type Stack } from '../support/stack.js';
import { handshake } from '../support/tls-client.js';
import { issueQueue } from '../support/queue.js';

const EAB_KID = 'kid-certfleet';
const EAB_KEY = randomBytes(32).toString('base64url');

/**
 * Two CAs: the first behind the fault proxy, the second a Pebble of its own that requires
 * external account binding. Two issuers with little concurrency, so a backlog stays a backlog.
 */
describe('priorities and several CAs', () => {
  let stack: Stack;
  let second: Pebble;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certfleet-cas-'));
    const casFile = join(dir, 'cas.json');
    stack = await startStack({
      edges: 1,
      issuers: 2,
      proxy: true,
      env: {
        ISSUER_CONCURRENCY: '2',
        EDGE_ISSUE_WAIT: '15s',
        EDGE_HANDSHAKE_TIMEOUT: '25s',
        ACME_CAS_FILE: casFile,
        ACME_DIRECTORY_URL: '',
        ACME_CA_BUNDLE: '',
      },
      // The CA list is written once both CAs are known (below), before any issuer starts.
      beforeRoles: async (s) => {
        second = await startPebble({ httpPort: s.edgePorts[0]!.httpPort, eabKeys: { [EAB_KID]: EAB_KEY }, name: 'pebble-second' });
        writeFileSync(
          casFile,
          JSON.stringify([
            {
              name: 'primary',
              directoryUrl: s.proxy!.directoryUrl,
              caBundleFile: s.pebble.listenerCertPath,
              budgets: { orders: '1000/1s' },
            },
            {
              name: 'secondary',
              directoryUrl: second.directoryUrl,
              caBundleFile: second.listenerCertPath,
              eab: { kid: EAB_KID, hmacKey: EAB_KEY },
              budgets: { orders: '1000/1s' },
            },
          ]),
        );
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await second?.stop();
  });
  const port = () => stack.edges[0]!.ports.httpsPort;

  it("serves a visitor's new name a real certificate while 200 renewals are queued", async () => {
    const names = Array.from({ length: 200 }, (_, i) => `backlog-${i}.example.com`);
    const file = join(mkdtempSync(join(tmpdir(), 'certfleet-backlog-')), 'names.txt');
    writeFileSync(file, `${names.join('\n')}\nvisitor.example.com\n`);
    expect((await cli(['domains', 'import', file], stack.env)).code).toBe(0);
    const queue = issueQueue(stack.redis.port, stack.prefix);
    try {
      await Promise.all(names.map((name) => requestIssuance(queue, { name, reason: 'renewal', requestedAt: Date.now() })));
      expect(await queue.getJobCountByTypes('prioritized', 'waiting')).toBeGreaterThan(150);
      const visitor = await handshake(port(), 'visitor.example.com', stack.rootPem);
      expect(visitor.authorized).toBe(true);
      expect(visitor.subjectaltname).toBe('DNS:visitor.example.com');
      // Most of the backlog is still waiting: the visitor went first.
      expect(await queue.getJobCountByTypes('prioritized', 'waiting')).toBeGreaterThan(100);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }, 120_000);

  it('sends the next name to the second CA (with EAB) when the first answers 429', async () => {
    stack.proxy!.addRule({ kind: 'newOrder', times: 1, respond: { status: 429, retryAfter: '120', detail: 'slow down' } });
    await cli(['domains', 'add', 'moved.example.com', 'next.example.com'], stack.env);
    const secondRoot = await second.rootPem();
    const moved = await handshake(port(), 'moved.example.com', secondRoot);
    expect(moved.authorized).toBe(true);
    expect(moved.issuer).toMatch(/^Pebble Intermediate CA/);
    // The first CA stays paused for the whole fleet: the next name goes straight to the second.
    const ordersAtFirst = stack.proxy!.newOrders().length;
    const next = await handshake(port(), 'next.example.com', secondRoot);
    expect(next.authorized).toBe(true);
    expect(stack.proxy!.newOrders().length).toBe(ordersAtFirst);
    const status = JSON.parse((await cli(['domains', 'status', 'next.example.com', '--json'], stack.env)).stdout) as { ca: string };
    expect(status.ca).toBe('secondary');
  }, 60_000);
});
