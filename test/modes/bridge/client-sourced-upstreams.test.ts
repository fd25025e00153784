/**
 * Client-sourced upstream pools: real IP_TRANSPARENT connections on loopback (root only: IP_TRANSPARENT
 * needs CAP_NET_ADMIN; every 127/8 address is local, so no namespace is needed), the server seeing the
 * client's address, one pool per key, the bound and the idle sweep (busy pools are never closed).
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { Timeouts } from '../../../src/config/types.js';
import { ClientSourcedUpstreams } from '../../../src/modes/bridge/client-sourced-upstreams.js';
import type { Upstream, UpstreamDispatcher, UpstreamTarget } from '../../../src/pipeline/upstream-pools.js';
import { createTestPki } from '../../helpers/certs.js';

const root = process.getuid?.() === 0;
const skip = root ? false : process.env.CI === 'true' ? false : 'IP_TRANSPARENT needs root (CAP_NET_ADMIN); runs in CI';

const timeouts: Timeouts = {
  connectMs: 2000, upstreamHeadersMs: 5000, idleMs: 5000, clientHeadersMs: 5000, keepAliveMs: 5000, shutdownGraceMs: 1000,
};

describe('client-sourced upstream pools', { skip }, () => {
  let origin: Server;
  let target: UpstreamTarget;
  /** Requests to /hang are never answered until the test ends. */
  const hanging = new Set<Socket>();

  before(async () => {
    origin = createServer((req, res) => {
      if (req.url === '/hang') {
        hanging.add(req.socket);
        return;
      }
      res.end(JSON.stringify({ peer: req.socket.remoteAddress }));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as AddressInfo).port;
    target = { host: '127.0.0.1', port, encrypt: false, validateServerCertificate: true, ca: null, serverName: null };
  });
  after(async () => {
    for (const s of hanging) s.destroy();
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
  });

  /** One GET through the pool's dispatch; resolves with the response body. */
  const request = (pool: UpstreamDispatcher, path: string): Promise<string> => new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pool.dispatch({ path, method: 'GET', headers: [], body: null }, {
      onHeaders: () => true,
      onData: (chunk: Buffer) => chunks.push(chunk) > 0,
      onComplete: () => resolve(Buffer.concat(chunks).toString('utf8')),
      onError: reject,
    });
  });
  const get = async (upstream: Upstream, path = '/'): Promise<{ peer: string }> =>
    JSON.parse(await request(upstream.pool, path)) as { peer: string };

  it('connections come from the client address, one pool per key', async () => {
    const pools = new ClientSourcedUpstreams<Upstream>({ timeouts, mark: 0 });
    try {
      const first = pools.get('127.0.0.7|0|', '127.0.0.7', target, (u) => u);
      const again = pools.get('127.0.0.7|0|', '127.0.0.7', target, (u) => u);
      const other = pools.get('127.0.0.8|0|', '127.0.0.8', target, (u) => u);
      assert.equal(first, again, 'the same key reuses its pool');
      assert.notEqual(first, other);
      assert.equal((await get(first)).peer, '127.0.0.7');
      assert.equal((await get(other)).peer, '127.0.0.8');
      assert.equal(first.label, `127.0.0.1:${target.port}`);
      assert.equal(pools.size, 2);
    } finally {
      await pools.destroy();
    }
  });

  it('bounded: the least recently used idle pool is closed to make room', async () => {
    const pools = new ClientSourcedUpstreams<Upstream>({ timeouts, mark: 0, maxPools: 2 });
    try {
      const a = pools.get('a', '127.0.0.7', target, (u) => u);
      const b = pools.get('b', '127.0.0.8', target, (u) => u);
      pools.get('a', '127.0.0.7', target, (u) => u); // a is now the most recent
      const c = pools.get('c', '127.0.0.9', target, (u) => u);
      assert.equal(pools.size, 2);
      assert.equal(b.pool.closed, true, 'b was the least recently used');
      assert.equal(a.pool.closed, false);
      assert.equal((await get(c)).peer, '127.0.0.9');
    } finally {
      await pools.destroy();
    }
  });

  it('the sweep closes pools idle for idleMs but never one with a request in flight', async () => {
    const pools = new ClientSourcedUpstreams<Upstream>({ timeouts, mark: 0, idleMs: 1000 });
    try {
      const idle = pools.get('idle', '127.0.0.7', target, (u) => u);
      const busy = pools.get('busy', '127.0.0.8', target, (u) => u);
      await get(idle);
      const pending = request(busy.pool, '/hang').catch(() => undefined);
      for (let i = 0; i < 50 && hanging.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(hanging.size, 1, 'the hanging request reached the origin');
      assert.equal(pools.sweep(Date.now()), 0, 'nothing is old enough yet');
      assert.equal(pools.sweep(Date.now() + 2000), 1, 'only the idle pool goes');
      assert.equal(idle.pool.closed, true);
      assert.equal(busy.pool.closed, false);
      assert.equal(pools.size, 1);
      for (const s of hanging) s.destroy();
      await pending;
    } finally {
      await pools.destroy();
    }
  });

  describe('raw connections for Upgrade tunnels (openSocket)', () => {
    /** A TCP (or TLS) server that writes the peer address it saw and closes. */
    const peerEcho = async (tls: { cert: string; key: string } | null): Promise<{ port: number; close(): Promise<void> }> => {
      const onSocket = (socket: Socket): void => {
        socket.end(socket.remoteAddress ?? '');
      };
      const server = tls ? createTlsServer(tls, onSocket) : createTcpServer(onSocket);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
    };
    const read = (socket: Socket, event: 'connect' | 'secureConnect'): Promise<{ event: boolean; text: string }> =>
      new Promise((resolve, reject) => {
        let connected = false;
        let text = '';
        socket.once(event, () => (connected = true));
        socket.setEncoding('utf8').on('data', (d: string) => (text += d));
        socket.once('end', () => resolve({ event: connected, text }));
        socket.once('error', reject);
      });

    it('plain: from the client address, emitting connect like net.connect', async () => {
      const echo = await peerEcho(null);
      const pools = new ClientSourcedUpstreams<Upstream>({ timeouts, mark: 0 });
      try {
        const upstream = pools.get('ws', '127.0.0.7', { ...target, port: echo.port }, (u) => u);
        assert.deepEqual(await read(upstream.openSocket!(), 'connect'), { event: true, text: '127.0.0.7' });
      } finally {
        await pools.destroy();
        await echo.close();
      }
    });

    it('encrypt: TLS over the client-sourced socket, verified, emitting secureConnect', async () => {
      const pki = createTestPki();
      const cert = pki.server('origin', ['origin.test'], ['127.0.0.1']);
      const echo = await peerEcho({ cert: cert.cert, key: cert.key });
      const pools = new ClientSourcedUpstreams<Upstream>({ timeouts, mark: 0 });
      try {
        const tlsTarget: UpstreamTarget = { ...target, port: echo.port, encrypt: true, ca: pki.ca.cert };
        const upstream = pools.get('wss', '127.0.0.8', tlsTarget, (u) => u);
        assert.deepEqual(await read(upstream.openSocket!(), 'secureConnect'), { event: true, text: '127.0.0.8' });
        const untrusted = pools.get('wss-untrusted', '127.0.0.8', { ...tlsTarget, ca: null }, (u) => u);
        await assert.rejects(read(untrusted.openSocket!(), 'secureConnect'), /self.signed|unable to (get|verify)/i);
      } finally {
        await pools.destroy();
        await echo.close();
        pki.cleanup();
      }
    });

    it('a socket that cannot be made is reported as an error event, not thrown', async () => {
      const pools = new ClientSourcedUpstreams<Upstream>({ timeouts, mark: 0 });
      try {
        const upstream = pools.get('mixed', '127.0.0.7', { ...target, host: '::1' }, (u) => u);
        const socket = upstream.openSocket!();
        const err = await new Promise<Error>((resolve) => socket.once('error', resolve));
        assert.match(err.message, /different address families/);
      } finally {
        await pools.destroy();
      }
    });
  });
});
