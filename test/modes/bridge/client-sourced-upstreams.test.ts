/**
 * Client-sourced upstream pools: real IP_TRANSPARENT connections on loopback (root only: IP_TRANSPARENT
 * needs CAP_NET_ADMIN; every 127/8 address is local, so no namespace is needed), the server seeing the
 * client's address, one pool per key, the bound and the idle sweep (busy pools are never closed).
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Timeouts } from '../../../src/config/types.js';
import { ClientSourcedUpstreams } from '../../../src/modes/bridge/client-sourced-upstreams.js';
import type { Upstream, UpstreamTarget } from '../../../src/pipeline/upstream-pools.js';

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

  const get = async (upstream: Upstream, path = '/'): Promise<{ peer: string }> => {
    const r = await upstream.pool.request({ path, method: 'GET' });
    return (await r.body.json()) as { peer: string };
  };

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
      const pending = busy.pool.request({ path: '/hang', method: 'GET' }).catch(() => undefined);
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
});
