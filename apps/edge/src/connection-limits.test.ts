import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnectionLimiter, type ConnectionLimit } from './connection-limits.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function guarded(maxConnections: number, maxPerClient: number) {
  const refused: ConnectionLimit[] = [];
  const limiter = createConnectionLimiter({ maxConnections, maxPerClient, onRefused: (limit) => refused.push(limit) });
  const server = createServer(() => undefined);
  limiter.guard(server);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, refused, limiter };
}

/** Opens a connection from `localAddress`; resolves true if it is still open a moment later. */
function stays(port: number, localAddress: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(false));
    socket.once('connect', () => setTimeout(() => resolve(!socket.destroyed), 100));
  });
}

describe('connection limits', () => {
  it('closes a client past its allowance at once, counts it, and leaves other clients alone', async () => {
    const { port, refused, limiter } = await guarded(100, 2);
    expect(await stays(port, '127.0.0.1')).toBe(true);
    expect(await stays(port, '127.0.0.1')).toBe(true);
    expect(await stays(port, '127.0.0.1')).toBe(false);
    expect(await stays(port, '127.0.0.2')).toBe(true);
    expect(refused).toEqual(['per_ip']);
    expect(limiter.openFor('127.0.0.1')).toBe(2);
  });

  it('gives a client its place back when one of its connections closes', async () => {
    const { port, limiter } = await guarded(100, 1);
    expect(await stays(port, '127.0.0.1')).toBe(true);
    sockets.pop()?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(limiter.openFor('127.0.0.1')).toBe(0);
    expect(await stays(port, '127.0.0.1')).toBe(true);
  });

  it('caps the connections of the whole process', async () => {
    const { port, refused } = await guarded(2, 100);
    expect(await stays(port, '127.0.0.1')).toBe(true);
    expect(await stays(port, '127.0.0.2')).toBe(true);
    expect(await stays(port, '127.0.0.3')).toBe(false);
    expect(refused).toEqual(['max_connections']);
  });
});
