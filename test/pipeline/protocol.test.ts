import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer, connect as netConnect, type AddressInfo, type Server as NetServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { outbound, singleServiceConfig } from './config-builder.js';
import { eventually, get, rawExchange, startEchoOrigin, startGateway, startOrigin, type Gateway } from './harness.js';

/** A TCP origin that answers every request with fixed bytes (to send what node:http would refuse to). */
async function rawOrigin(answer: string): Promise<NetServer & { port: number }> {
  const server = createNetServer((s) => {
    s.once('data', () => s.end(answer, 'latin1'));
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

describe('HTTP semantics through the gateway', () => {
  let origin: Awaited<ReturnType<typeof startEchoOrigin>>;
  let special: Awaited<ReturnType<typeof startOrigin>>;
  let bad: NetServer & { port: number };
  let gw: Gateway;

  before(async () => {
    origin = await startEchoOrigin('o');
    special = await startOrigin((req, res) => {
      if (req.url === '/special/204') { res.writeHead(204); res.end(); return; }
      if (req.url === '/special/304') { res.writeHead(304, { etag: '"x"' }); res.end(); return; }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11', 'set-cookie': ['a=1', 'b=2'] });
      res.end(req.method === 'HEAD' ? undefined : 'hello world');
    });
    bad = await rawOrigin('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Bad: a\x01b\r\n\r\nok');
    gw = await startGateway(createAliasRuntime, singleServiceConfig(8080, [
      outbound({ priority: 10, urlPrefix: '/special/', serverPort: special.port }),
      outbound({ priority: 20, urlPrefix: '/bad', serverPort: bad.port }),
      outbound({ priority: 30, serverPort: origin.port }),
    ], { timeouts: { idleMs: 300 } }));
  });
  after(async () => {
    await gw.close();
    await origin.close();
    await special.close();
    bad.close();
  });

  test('HEAD keeps Content-Length and sends no body; duplicate Set-Cookie survive', async () => {
    const head = await get(gw.port(8080), '/special/x', { host: 'x' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '11');
    assert.equal(head.body, '');
    const full = await get(gw.port(8080), '/special/x', { host: 'x' });
    assert.equal(full.body, 'hello world');
    assert.deepEqual(full.headers['set-cookie'], ['a=1', 'b=2']);
  });

  test('204 and 304 pass through without a body', async () => {
    const raw = await rawExchange(gw.port(8080), 'GET /special/204 HTTP/1.1\r\nHost: x\r\n\r\nGET /special/304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 204 No Content\r\n/);
    assert.match(raw, /HTTP\/1\.1 304 Not Modified\r\n/);
    assert.doesNotMatch(raw, /transfer-encoding/i);
  });

  test('HTTP/1.1 without Host → 400 missing-host; HTTP/1.0 without Host is routed', async () => {
    const raw = await rawExchange(gw.port(8080), 'GET /nohost HTTP/1.1\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 400 /);
    await eventually(() => gw.logs.access().some((l) => l.path === '/nohost'));
    assert.equal(gw.logs.access().find((l) => l.path === '/nohost')!.error, 'missing-host');
    const old = await rawExchange(gw.port(8080), 'GET /old HTTP/1.0\r\n\r\n');
    assert.match(old, /^HTTP\/1\.1 200 /);
  });

  test('Expect: 100-continue is answered by the gateway and the body forwarded', async () => {
    const socket = netConnect(gw.port(8080), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /expect HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    const [first] = await once(socket, 'data') as [Buffer];
    assert.match(first.toString(), /^HTTP\/1\.1 100 Continue/);
    socket.write('12345');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /HTTP\/1\.1 200 OK/);
    const seen = JSON.parse(text.slice(text.indexOf('{')));
    assert.equal(seen.bodyBytes, 5);
    assert.equal(seen.headers.expect, undefined);
  });

  test('a client that stops sending its body is cut off after idleMs; the upstream request is aborted', async () => {
    const socket = netConnect(gw.port(8080), '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => undefined);
    socket.write('POST /idle HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    const started = Date.now();
    await once(socket, 'close');
    assert.ok(Date.now() - started >= 250);
    await eventually(() => gw.logs.access().some((l) => l.path === '/idle'));
    assert.equal(gw.logs.access().find((l) => l.path === '/idle')!.error, 'client-timeout');
    await eventually(() => origin.seen.some((s) => s.url === '/idle' && !s.complete));
  });

  test('an upstream answer node:http refuses to relay → 502, gateway still serving', async () => {
    const res = await get(gw.port(8080), '/bad', { host: 'x' });
    assert.equal(res.status, 502);
    await eventually(() => gw.logs.access().some((l) => l.path === '/bad'));
    assert.match(String(gw.logs.access().find((l) => l.path === '/bad')!.error), /^upstream-/);
    assert.equal((await get(gw.port(8080), '/still-ok', { host: 'x' })).status, 200);
  });
});
