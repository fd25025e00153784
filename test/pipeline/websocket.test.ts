import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { certificate, outbound, singleServiceConfig } from './config-builder.js';
import { eventually, rawExchange, startGateway, type Gateway } from './harness.js';
import { InspectorDouble } from './inspector-double.js';

describe('WebSocket relay', () => {
  let wss: WebSocketServer;
  let originPort: number;
  const upgrades: IncomingMessage[] = [];
  let gw: Gateway;
  let tlsGw: Gateway;
  let pki: TestPki;
  const inspector = new InspectorDouble('shop', { operationMode: 'active' });

  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    originPort = (wss.address() as AddressInfo).port;
    wss.on('connection', (ws, req) => {
      upgrades.push(req);
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }));
    });
    const rules = [outbound({ priority: 10, serverPort: originPort })];
    gw = await startGateway(createAliasRuntime, singleServiceConfig(8080, rules), inspector);
    pki = createTestPki();
    const cert = certificate('ws-cert', pki.server('ws', ['ws.example.com']), ['ws.example.com']);
    tlsGw = await startGateway(createAliasRuntime, singleServiceConfig(8443, rules, { tlsCertificate: cert }));
  });
  after(async () => {
    await gw.close();
    await tlsGw.close();
    for (const c of wss.clients) c.terminate();
    wss.close();
    pki.cleanup();
  });

  test('messages are relayed both ways; forwarded headers reach the origin; the tunnel counts in flight', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port(8080)}/chat`, { headers: { host: 'chat.test' } });
    await once(ws, 'open');
    assert.equal(gw.runtime.inFlight(), 1);
    const replies: string[] = [];
    ws.on('message', (d) => replies.push(d.toString()));
    ws.send('hello');
    ws.send('world');
    const big = Buffer.alloc(256 * 1024, 7);
    ws.send(big);
    await eventually(() => replies.length === 3);
    assert.deepEqual(replies.slice(0, 2), ['echo:hello', 'echo:world']);
    assert.equal(replies[2]!.length, big.length);
    const seen = upgrades.at(-1)!;
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers.host, 'chat.test');
    assert.equal(seen.url, '/chat');
    ws.close();
    await once(ws, 'close');
    await eventually(() => gw.runtime.inFlight() === 0);
    await eventually(() => gw.logs.access().some((l) => l.path === '/chat'));
    const line = gw.logs.access().find((l) => l.path === '/chat')!;
    assert.equal(line.status, 101);
    assert.ok((line.bytesIn as number) > big.length);
    await eventually(() => inspector.recorded.at(-1)!.calls.includes('end'));
    assert.deepEqual(inspector.recorded.at(-1)!.calls, ['requestHeaders', 'requestBodyDone', 'end']);
  });

  test('the origin closing the WebSocket closes the client side and ends the tunnel', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port(8080)}/origin-closes`, { headers: { host: 'chat.test' } });
    await once(ws, 'open');
    const serverSide = [...wss.clients].at(-1)!;
    serverSide.close(4001, 'bye');
    const [code, reason] = await once(ws, 'close') as [number, Buffer];
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'bye');
    await eventually(() => gw.runtime.inFlight() === 0);
  });

  test('wss: TLS-terminated upgrade relayed to a plain origin', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${tlsGw.port(8443)}/secure`, { ca: pki.ca.cert,
      headers: { host: 'ws.example.com' }, ...({ servername: 'ws.example.com' } as object) });
    await once(ws, 'open');
    ws.send('over tls');
    const [reply] = await once(ws, 'message');
    assert.equal(String(reply), 'echo:over tls');
    assert.equal(upgrades.at(-1)!.headers['x-forwarded-proto'], 'https');
    ws.close();
    await once(ws, 'close');
  });

  test('an inspected upgrade to /attack is blocked before reaching the origin', async () => {
    const before = upgrades.length;
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port(8080)}/attack`, { headers: { host: 'chat.test' } });
    const [, res] = await once(ws, 'unexpected-response') as [unknown, IncomingMessage];
    assert.equal(res.statusCode, 403);
    res.resume();
    assert.equal(upgrades.length, before);
    ws.on('error', () => undefined); // terminate() before open reports an error we expect
    ws.terminate();
  });

  test('CONNECT is inspected like a request, then refused with 405; nothing reaches the origin', async () => {
    const before = upgrades.length;
    const inspected = inspector.recorded.length;
    const reply = await rawExchange(gw.port(8080), 'CONNECT chat.test:443 HTTP/1.1\r\nHost: chat.test\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    assert.equal(upgrades.length, before);
    const record = inspector.recorded[inspected];
    assert.equal(record?.facts.method, 'CONNECT');
    assert.deepEqual(record?.calls, ['requestHeaders', 'requestBodyDone', 'end']);
    await eventually(() => gw.logs.access().some((l) => l.method === 'CONNECT' && l.error === 'connect-not-supported' && l.status === 405));
  });

  test('origin gone: the client closing the tunnel ends it cleanly; upstream down gives 502', async () => {
    const down = await startGateway(createAliasRuntime, singleServiceConfig(8080, [outbound({ priority: 10, serverPort: 1 })]));
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${down.port(8080)}/x`, { headers: { host: 'chat.test' } });
      const [, res] = await once(ws, 'unexpected-response') as [unknown, IncomingMessage];
      assert.equal(res.statusCode, 502);
      res.resume();
      ws.on('error', () => undefined); // terminate() before open reports an error we expect
      ws.terminate();
      await eventually(() => down.runtime.inFlight() === 0);
    } finally {
      await down.close();
    }
  });
});
