import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { OutboundRuleTable, type OutboundEntry } from '../../src/modes/alias/outbound-rules.js';
import { ForwardingPolicy } from '../../src/pipeline/forwarded.js';
import { UpstreamPools } from '../../src/pipeline/upstream-pools.js';
import {
  alias, gatewayConfig, outbound, reverseProxy, serverGroup, service, site, DEFAULT_FORWARDED_CLIENT_IP,
} from '../pipeline/config-builder.js';
import { eventually, get, startEchoOrigin, startGateway, type Gateway } from '../pipeline/harness.js';

describe('outbound rule table', () => {
  const pools = new UpstreamPools({ connectMs: 1000, upstreamHeadersMs: 1000, idleMs: 1000, clientHeadersMs: 1000,
    keepAliveMs: 1000, shutdownGraceMs: 1000 });
  after(() => pools.destroy());
  const vip = alias('vip1');
  const rules = [
    outbound({ priority: 30, host: '*', urlPrefix: '/', serverPort: 3 }),
    outbound({ priority: 10, host: 'shop.example.com', urlPrefix: '/api', serverPort: 1 }),
    outbound({ priority: 20, host: '*.example.com', urlPrefix: '/', serverPort: 2 }),
    outbound({ priority: 25, host: 'Exact.Example.ORG', urlPrefix: '/', serverPort: 4 }),
  ];
  const svc = service('web', [reverseProxy(vip, 80, rules)]);
  const group = serverGroup('shop', [svc]);
  const entries: OutboundEntry[] = svc.reverseProxy[0]!.rules.map((rule) => ({
    rule, reverseProxy: svc.reverseProxy[0]!, service: svc, serverGroup: group,
  }));
  const policy = new ForwardingPolicy(null, DEFAULT_FORWARDED_CLIENT_IP);
  const table = OutboundRuleTable.compile(entries, pools, () => policy);
  const portFor = (host: string, path: string): number | null => table.lookup(host, path)?.upstream.target.port ?? null;

  test('the lowest priority that matches host and prefix wins', () => {
    assert.equal(portFor('shop.example.com', '/api/items'), 1);
    assert.equal(portFor('shop.example.com', '/index.html'), 2); // prefix /api does not match
    assert.equal(table.lookup('shop.example.com', '/api')!.rule, 10);
  });

  test('wildcard matches any subdomain but not the bare domain', () => {
    assert.equal(portFor('a.b.example.com', '/'), 2);
    assert.equal(portFor('example.com', '/'), 3); // falls through to '*'
    assert.equal(portFor('badexample.com', '/'), 3);
  });

  test('exact hosts compare case-insensitively (configured upper case, request lower case)', () => {
    assert.equal(portFor('exact.example.org', '/x'), 4);
    assert.equal(portFor('other.example.org', '/x'), 3);
  });

  test('no matching rule gives null', () => {
    const onlyExact = OutboundRuleTable.compile(entries.filter((e) => e.rule.priority === 10), pools, () => policy);
    assert.equal(onlyExact.lookup('other.test', '/api'), null);
    assert.equal(onlyExact.lookup('shop.example.com', '/ap'), null);
  });
});

describe('alias runtime routing over HTTP', () => {
  let a: Awaited<ReturnType<typeof startEchoOrigin>>;
  let b: Awaited<ReturnType<typeof startEchoOrigin>>;
  let c: Awaited<ReturnType<typeof startEchoOrigin>>;
  let gw: Gateway;

  before(async () => {
    [a, b, c] = await Promise.all([startEchoOrigin('a'), startEchoOrigin('b'), startEchoOrigin('c')]);
    const vip = alias('vip1');
    // Two services share 127.0.0.1:8080 (virtual hosting); a third entry binds 127.0.0.1:8081.
    const shop = service('shop-web', [reverseProxy(vip, 8080, [
      outbound({ priority: 10, host: 'shop.example.com', urlPrefix: '/api', serverPort: a.port }),
      outbound({ priority: 20, host: 'shop.example.com', urlPrefix: '/', serverPort: b.port }),
    ])]);
    const blog = service('blog-web', [
      reverseProxy(vip, 8080, [outbound({ priority: 15, host: '*.blog.test', urlPrefix: '/', serverPort: c.port })]),
      reverseProxy(vip, 8081, [outbound({ priority: 10, host: '*', urlPrefix: '/', serverPort: c.port })]),
    ]);
    const config = gatewayConfig([site('s', [serverGroup('shop', [shop]), serverGroup('blog', [blog])])], { aliases: [vip] });
    gw = await startGateway(createAliasRuntime, config);
  });
  after(async () => {
    await gw.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  test('one listener per address:port, services merged', () => {
    assert.deepEqual(gw.runtime.listeners.map((l) => l.key).sort(), ['127.0.0.1:8080', '127.0.0.1:8081']);
  });

  test('host and prefix choose the origin; Host port is ignored for matching', async () => {
    const port = gw.port(8080);
    const api = await get(port, '/api/v1?x=1', { host: 'SHOP.example.com:8080' });
    assert.equal(api.status, 200);
    assert.equal(JSON.parse(api.body).name, 'a');
    assert.equal(JSON.parse(api.body).url, '/api/v1?x=1');
    const page = await get(port, '/index.html', { host: 'shop.example.com' });
    assert.equal(JSON.parse(page.body).name, 'b');
    const blogPage = await get(port, '/post/1', { host: 'www.blog.test' });
    assert.equal(JSON.parse(blogPage.body).name, 'c');
    const other = await get(gw.port(8081), '/', { host: 'anything.test' });
    assert.equal(JSON.parse(other.body).name, 'c');
  });

  test('no matching rule answers 404 and logs no-matching-rule', async () => {
    const before = a.seen.length + b.seen.length + c.seen.length;
    const res = await get(gw.port(8080), '/', { host: 'unknown.test' });
    assert.equal(res.status, 404);
    assert.match(res.body, /no route/);
    assert.equal(a.seen.length + b.seen.length + c.seen.length, before);
    await eventually(() => gw.logs.access().some((l) => l.host === 'unknown.test'));
    const line = gw.logs.access().find((l) => l.host === 'unknown.test')!;
    assert.equal(line.error, 'no-matching-rule');
    assert.equal(line.status, 404);
  });

  test('access line carries rule, upstream, durations and byte counts', async () => {
    await get(gw.port(8080), '/api/x', { host: 'shop.example.com' }, 'POST', 'hello');
    await eventually(() => gw.logs.access().some((l) => l.path === '/api/x'));
    const line = gw.logs.access().find((l) => l.path === '/api/x')!;
    assert.equal(line.rule, 10);
    assert.equal(line.upstream, `127.0.0.1:${a.port}`);
    assert.equal(line.method, 'POST');
    assert.equal(line.status, 200);
    assert.equal(line.bytesIn, 5);
    assert.ok((line.bytesOut as number) > 0);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(typeof line.upstreamMs, 'number');
    assert.equal(line.peerIp, '127.0.0.1');
    assert.equal(line.clientIp, '127.0.0.1');
    assert.equal(typeof line.id, 'string');
    assert.equal(typeof line.conn, 'number');
    assert.equal(line.error, null);
  });
});

describe('alias runtime construction and shutdown', () => {
  test('a port that is TLS for one service and plain for another is refused with a stable code', async () => {
    const { createTestPki } = await import('../helpers/certs.js');
    const { certificate } = await import('../pipeline/config-builder.js');
    const pki = createTestPki();
    try {
      const vip = alias('vip1');
      const cert = certificate('c', pki.server('c', ['c.test']), ['c.test']);
      const a = service('a', [reverseProxy(vip, 8443, [outbound({ priority: 10, serverPort: 1 })], cert)]);
      const b = service('b', [reverseProxy(vip, 8443, [outbound({ priority: 20, serverPort: 1 })])]);
      const config = gatewayConfig([site('s', [serverGroup('g', [a, b])])], { aliases: [vip] });
      const { logger } = (await import('../pipeline/harness.js')).captureLogs();
      assert.throws(() => createAliasRuntime(config, { logger, inspectors: null }),
        (err: Error & { code?: string }) => err.code === 'LISTENER_TLS_CONFLICT' && /8443/.test(err.message));
    } finally {
      pki.cleanup();
    }
  });

  test('close() waits for in-flight requests, and aborts them when the grace period runs out', async () => {
    const { startOrigin } = await import('../pipeline/harness.js');
    const slow = await startOrigin((req, res) => {
      setTimeout(() => res.end(`slow ${req.url}`), req.url === '/slow' ? 300 : 3000);
    });
    const vip = alias('vip1');
    const config = gatewayConfig([site('s', [serverGroup('g', [service('w', [reverseProxy(vip, 8080,
      [outbound({ priority: 10, serverPort: slow.port })])])])])], { aliases: [vip] });
    const gw = await startGateway(createAliasRuntime, config);
    try {
      const pending = get(gw.port(8080), '/slow', { host: 'x' });
      await eventually(() => gw.runtime.inFlight() === 1);
      const started = Date.now();
      await gw.runtime.close(5000);
      assert.ok(Date.now() - started >= 200, 'close waited for the request');
      assert.equal((await pending).body, 'slow /slow');

      const gw2 = await startGateway(createAliasRuntime, config);
      const stuck = get(gw2.port(8080), '/stuck', { host: 'x' }).then((r) => r.status, () => 0);
      await eventually(() => gw2.runtime.inFlight() === 1);
      const t0 = Date.now();
      await gw2.runtime.close(100);
      assert.ok(Date.now() - t0 < 1500, 'close gave up after the grace period');
      assert.notEqual(await stuck, 200);
      await eventually(() => gw2.runtime.inFlight() === 0);
      await gw2.close();
    } finally {
      await gw.close();
      await slow.close();
    }
  });
});

describe('IPv6 upstream', () => {
  test('serverIp ::1 is reached (bracketed in the pool origin, logged as [::1]:port)', async () => {
    const { createServer } = await import('node:http');
    const { once } = (await import('node:events')).EventEmitter;
    const origin = createServer((req, res) => res.end(`v6 ${req.socket.localAddress}`));
    origin.listen(0, '::1');
    await once(origin, 'listening');
    const port = (origin.address() as import('node:net').AddressInfo).port;
    const vip = alias('vip1');
    const config = gatewayConfig([site('s', [serverGroup('g', [service('w', [reverseProxy(vip, 8080,
      [outbound({ priority: 10, serverIp: '::1', serverPort: port })])])])])], { aliases: [vip] });
    const gw = await startGateway(createAliasRuntime, config);
    try {
      const res = await get(gw.port(8080), '/six', { host: '[fd00::1]:8080' });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'v6 ::1');
      await eventually(() => gw.logs.access().some((l) => l.path === '/six'));
      const line = gw.logs.access().find((l) => l.path === '/six')!;
      assert.equal(line.upstream, `[::1]:${port}`);
      assert.equal(line.host, 'fd00::1');
    } finally {
      await gw.close();
      origin.close();
    }
  });
});
