import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { ForwardingPolicy, normalizePeerIp } from '../../src/pipeline/forwarded.js';
import { connectionNominatedHeaders } from '../../src/pipeline/hop-by-hop.js';
import { forwardedConnections, outbound, singleServiceConfig, DEFAULT_FORWARDED_CLIENT_IP } from './config-builder.js';
import { eventually, get, rawExchange, startEchoOrigin, startGateway, type Gateway } from './harness.js';

describe('real client IP from forwarded headers', () => {
  const policy = new ForwardingPolicy(forwardedConnections(['10.10.0.0/24', '127.0.0.1/32', 'fd00::/64']),
    DEFAULT_FORWARDED_CLIENT_IP);

  test('trusted peer: the last hop that is not a trusted proxy', () => {
    assert.equal(policy.clientIp('10.10.0.5', '203.0.113.7'), '203.0.113.7');
    assert.equal(policy.clientIp('10.10.0.5', '198.51.100.1, 203.0.113.7, 10.10.0.9'), '203.0.113.7');
    assert.equal(policy.clientIp('fd00::1', '2001:db8::5'), '2001:db8::5');
    assert.equal(policy.clientIp('10.10.0.5', ['198.51.100.1', '203.0.113.8']), '203.0.113.8');
    assert.equal(policy.clientIp('10.10.0.5', '203.0.113.7:4567'), '203.0.113.7');
  });

  test('untrusted peer: the header is ignored', () => {
    assert.equal(policy.clientIp('192.0.2.1', '203.0.113.7'), '192.0.2.1');
    assert.equal(policy.clientIp('10.10.1.5', '203.0.113.7'), '10.10.1.5');
  });

  test('garbage stops the walk; all-trusted chain gives the left-most', () => {
    assert.equal(policy.clientIp('10.10.0.5', 'not-an-ip, 203.0.113.7'), '203.0.113.7');
    assert.equal(policy.clientIp('10.10.0.5', '203.0.113.7, garbage'), '10.10.0.5');
    assert.equal(policy.clientIp('10.10.0.5', '10.10.0.7, 10.10.0.8'), '10.10.0.7');
  });

  test('IPv4-mapped IPv6 peers match IPv4 CIDRs', () => {
    assert.equal(normalizePeerIp('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(policy.isTrustedProxy(normalizePeerIp('::ffff:10.10.0.3')), true);
  });

  test('Connection-nominated headers', () => {
    assert.equal(connectionNominatedHeaders('keep-alive'), null);
    assert.deepEqual([...connectionNominatedHeaders('close, X-Secret , upgrade')!], ['x-secret']);
  });
});

describe('forwarded headers and hop-by-hop removal through the gateway', () => {
  let origin: Awaited<ReturnType<typeof startEchoOrigin>>;
  let trustedGw: Gateway;
  let untrustedGw: Gateway;

  before(async () => {
    origin = await startEchoOrigin('o');
    const rules = [outbound({ priority: 10, serverPort: origin.port })];
    trustedGw = await startGateway(createAliasRuntime, singleServiceConfig(8080, rules,
      { service: { forwardedConnections: forwardedConnections(['127.0.0.0/8']) } }));
    untrustedGw = await startGateway(createAliasRuntime, singleServiceConfig(8080, rules,
      { service: { forwardedConnections: forwardedConnections(['10.10.0.0/24']) } }));
  });
  after(async () => {
    await trustedGw.close();
    await untrustedGw.close();
    await origin.close();
  });

  test('a trusted proxy\'s X-Forwarded-For gives the client IP and is extended with the peer', async () => {
    const res = await get(trustedGw.port(8080), '/t', { host: 'site.test', 'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https' });
    const seen = JSON.parse(res.body);
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https'); // kept: the proxy in front terminated TLS
    assert.equal(seen.headers['x-forwarded-host'], 'site.test');
    await eventually(() => trustedGw.logs.access().some((l) => l.path === '/t'));
    const line = trustedGw.logs.access().find((l) => l.path === '/t')!;
    assert.equal(line.clientIp, '203.0.113.7');
    assert.equal(line.peerIp, '127.0.0.1');
  });

  test('an untrusted peer\'s X-Forwarded-For is ignored and replaced', async () => {
    const res = await get(untrustedGw.port(8080), '/u', { host: 'site.test:8080', 'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.test' });
    const seen = JSON.parse(res.body);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'site.test:8080');
    assert.equal(seen.headers.host, 'site.test:8080');
    await eventually(() => untrustedGw.logs.access().some((l) => l.path === '/u'));
    assert.equal(untrustedGw.logs.access().find((l) => l.path === '/u')!.clientIp, '127.0.0.1');
  });

  test('hop-by-hop request headers and Connection-nominated headers are removed', async () => {
    const raw = await rawExchange(untrustedGw.port(8080), 'GET /hop HTTP/1.1\r\nHost: site.test\r\n'
      + 'Connection: close, X-Secret\r\nKeep-Alive: timeout=5\r\nX-Secret: s3cr3t\r\nProxy-Authorization: Basic eA==\r\n'
      + 'TE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nProxy: http://evil.test\r\nProxy-Foo: 1\r\nX-Kept: yes\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200/);
    const seen = origin.seen.find((s) => s.url === '/hop')!;
    for (const name of ['x-secret', 'keep-alive', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'proxy', 'proxy-foo']) {
      assert.equal(seen.headers[name], undefined, name);
    }
    assert.notEqual(seen.headers.connection, 'close, X-Secret');
    assert.equal(seen.headers['x-kept'], 'yes');
  });

  test('hop-by-hop response headers are removed', async () => {
    const hopOrigin = await (await import('./harness.js')).startOrigin((_req, res) => {
      res.writeHead(200, { connection: 'X-Internal', 'x-internal': '1', 'keep-alive': 'timeout=99', 'proxy-authenticate': 'x',
        'x-public': 'ok', 'content-length': '2' });
      res.end('ok');
    });
    const gw = await startGateway(createAliasRuntime, singleServiceConfig(8080,
      [outbound({ priority: 10, serverPort: hopOrigin.port })]));
    try {
      const res = await get(gw.port(8080), '/', { host: 'x' });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
      assert.equal(res.headers['x-public'], 'ok');
      assert.equal(res.headers['x-internal'], undefined);
      assert.equal(res.headers['proxy-authenticate'], undefined);
      assert.notEqual(res.headers['keep-alive'], 'timeout=99');
    } finally {
      await gw.close();
      await hopOrigin.close();
    }
  });

  test('forwardedClientIp disabled adds no X-Forwarded-* headers', async () => {
    const gw = await startGateway(createAliasRuntime, singleServiceConfig(8080,
      [outbound({ priority: 10, serverPort: origin.port })],
      { service: { forwardedClientIp: { enabled: false, header: 'X-Forwarded-For', addProto: true, addHost: true } } }));
    try {
      const seen = JSON.parse((await get(gw.port(8080), '/off', { host: 'x' })).body);
      assert.equal(seen.headers['x-forwarded-for'], undefined);
      assert.equal(seen.headers['x-forwarded-proto'], undefined);
      assert.equal(seen.headers['x-forwarded-host'], undefined);
    } finally {
      await gw.close();
    }
  });
});
