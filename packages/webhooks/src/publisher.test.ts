import { describe, expect, it } from 'vitest';
import { createLogger } from '@certfleet/observability';
import { webhookJobId } from '@certfleet/queue';
import { eventId, receiverId } from './event-id.js';
import { createWebhookPublisher, type WebhookEvent } from './publisher.js';

const URLS = ['https://panel.example/hooks', 'https://hook:hunter22@backup.example/in'];
const NOW = Date.UTC(2026, 11, 2, 12);

function setup(options: { failQueue?: boolean; failDescribe?: boolean } = {}) {
  const added: { name: string; data: Record<string, string>; opts?: { jobId?: string } }[][] = [];
  const lines: string[] = [];
  const publisher = createWebhookPublisher({
    queue: {
      addBulk: async (jobs) => {
        if (options.failQueue) throw new Error('Connection is closed.');
        added.push(jobs as never);
        return [];
      },
    },
    urls: URLS,
    describe: async (hostname) => {
      if (options.failDescribe) throw new Error('describe failed');
      return hostname === 'gone.example' ? null : ({ hostname, status: 'active' } as never);
    },
    logger: createLogger({ role: 'test', level: 'debug', destination: { write: (line: string) => lines.push(line) } as never }),
    clock: () => NOW,
  });
  return { publisher, added, lines };
}

describe('the webhook publisher', () => {
  it('queues one delivery job per receiver, named by event and receiver, with the signed body', async () => {
    const s = setup();
    await s.publisher.publish('certificate.issued', 'shop.example', 'AB12');
    const jobs = s.added[0] ?? [];
    const id = eventId('certificate.issued', 'shop.example', 'AB12');
    expect(jobs.map((j) => j.opts?.jobId)).toEqual(URLS.map((url) => webhookJobId(id, receiverId(url))));
    const body = JSON.parse(jobs[0]?.data.body ?? '') as WebhookEvent;
    expect(body).toEqual({
      id,
      type: 'certificate.issued',
      created_at: new Date(NOW).toISOString(),
      data: { hostname: 'shop.example', status: 'active' },
    });
    // The same bytes go to every receiver; the job shows the receiver redacted, never its password.
    expect(jobs[1]?.data.body).toBe(jobs[0]?.data.body);
    expect(JSON.stringify(jobs)).not.toContain('hunter22');
    expect(jobs[1]?.data.receiverShown).toBe('https://hook:***@backup.example/in');
  });

  it('describes a name certfleet no longer knows as retired with nothing left', async () => {
    const s = setup();
    await s.publisher.publish('hostname.deleted', 'gone.example', '1');
    const body = JSON.parse(s.added[0]?.[0]?.data.body ?? '') as WebhookEvent;
    expect(body.data).toMatchObject({ hostname: 'gone.example', status: 'retired', certificate: { status: 'none', serial: null } });
  });

  it('never throws into the caller, and logs what was lost', async () => {
    for (const failure of [{ failQueue: true }, { failDescribe: true }]) {
      const s = setup(failure);
      await expect(s.publisher.publish('certificate.issued', 'shop.example', 'AB12')).resolves.toBeUndefined();
      expect(s.lines.some((l) => l.includes('could not queue a webhook event'))).toBe(true);
    }
  });
});
