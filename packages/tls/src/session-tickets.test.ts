import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from './self-signed.js';
import { TicketKeyRing, useTicketKeyRing } from './session-tickets.js';

describe.each(['TLSv1.3', 'TLSv1.2'] as const)('TicketKeyRing over %s', async (version) => {
  const pem = await createSelfSignedCertificate({ commonName: 'tickets.example', validDays: 1 });
  const servers: Server[] = [];
  afterAll(() => {
    for (const server of servers) server.close();
  });

  async function serve(ring: TicketKeyRing): Promise<number> {
    const server = createServer({ cert: pem.certPem, key: pem.keyPem, minVersion: version, maxVersion: version }, (socket) =>
      socket.end('hi'),
    );
    expect(useTicketKeyRing(server, ring)).toBe(true);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  function visit(port: number, session?: Buffer): Promise<{ reused: boolean; session: Buffer | undefined }> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        port,
        host: '127.0.0.1',
        servername: 'tickets.example',
        rejectUnauthorized: false,
        ...(session ? { session } : {}),
      });
      let ticket: Buffer | undefined;
      socket.on('session', (value: Buffer) => (ticket = value));
      socket.on('data', () => undefined);
      socket.on('end', () => resolve({ reused: socket.isSessionReused(), session: ticket }));
      socket.on('error', reject);
    });
  }

  const key = () => randomBytes(48);

  it('resumes on another server holding the same keys, and across one rotation but not two', async () => {
    const [k1, k2, k3, k4] = [key(), key(), key(), key()];
    const ringA = new TicketKeyRing({ current: k1, next: k2 });
    const ringB = new TicketKeyRing({ current: k1, next: k2 });
    const [a, b] = [await serve(ringA), await serve(ringB)];

    const first = await visit(a);
    expect(first.reused).toBe(false);
    expect((await visit(b, first.session)).reused).toBe(true);

    // A rotation seen by B only: A's tickets under k1 (now previous) still resume on B,
    // and B's tickets under k2 resume on A, which already accepts its next key.
    ringB.update({ previous: k1, current: k2, next: k3 });
    expect((await visit(b, first.session)).reused).toBe(true);
    const fromB = await visit(b);
    expect((await visit(a, fromB.session)).reused).toBe(true);

    // A second rotation drops k1: the first ticket now costs a full handshake.
    ringB.update({ previous: k2, current: k3, next: k4 });
    expect((await visit(b, first.session)).reused).toBe(false);
  });

  it('refuses a key of the wrong size', () => {
    expect(() => new TicketKeyRing({ current: randomBytes(32), next: key() })).toThrow('must be 48 bytes, got 32');
  });
});
