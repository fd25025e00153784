import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { outbound, singleServiceConfig } from './config-builder.js';
import { eventually, get, rawExchange, startEchoOrigin, startGateway, startOrigin, type Gateway } from './harness.js';
import { InspectorDouble } from './inspector-double.js';

async function freePort(): Promise<number> {
  const s = createNetServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

describe('upstream failures', () => {
  let silentSockets: Socket[] = [];
  let silent: ReturnType<typeof createNetServer>;
  let gw: Gateway;
  let resetOrigin: Awaited<ReturnType<typeof startOrigin>>;

  before(async () => {
    silent = createNetServer((s) => { silentSockets.push(s); }); // accepts, never answers
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    resetOrigin = await startOrigin((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('x'.repeat(1000));
      } else {
        res.writeHead(200, { 'content-length': '100000' });
        res.write('y'.repeat(1000));
      }
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const down = await freePort();
    gw = await startGateway(createAliasRuntime, singleServiceConfig(8080, [
      outbound({ priority: 10, urlPrefix: '/down', serverPort: down }),
      outbound({ priority: 20, urlPrefix: '/silent', serverPort: (silent.address() as AddressInfo).port }),
      outbound({ priority: 30, urlPrefix: '/', serverPort: resetOrigin.port }),
    ], { timeouts: { upstreamHeadersMs: 300, connectMs: 300 } }));
  });
  after(async () => {
    await gw.close();
    for (const s of silentSockets) s.destroy();
    silentSockets = [];
    silent.close();
    await resetOrigin.close();
  });

  const reasonOf = async (path: string): Promise<unknown> => {
    await eventually(() => gw.logs.access().some((l) => l.path === path));
    return gw.logs.access().find((l) => l.path === path)!.error;
  };

  test('upstream down → 502 upstream-refused', async () => {
    const res = await get(gw.port(8080), '/down', { host: 'x' });
    assert.equal(res.status, 502);
    assert.match(res.body, /refused/);
    assert.equal(await reasonOf('/down'), 'upstream-refused');
    assert.equal(gw.logs.access().find((l) => l.path === '/down')!.bytesOut, Buffer.byteLength(res.body), 'the 502 body counts as bytes out');
  });

  test('upstream never answers → 504 upstream-timeout', async () => {
    const started = Date.now();
    const res = await get(gw.port(8080), '/silent', { host: 'x' });
    assert.equal(res.status, 504);
    assert.ok(Date.now() - started >= 250, 'answered only after the configured head timeout');
    assert.equal(await reasonOf('/silent'), 'upstream-timeout');
  });

  test('upstream accepts no connection (full listen backlog) → 504 upstream-connect-timeout', async () => {
    // A listener that never accepts, with its backlog filled by us: the kernel drops further SYNs, so the
    // gateway's connect hangs until its own timeout. (node cannot stop accepting; python's socket can.)
    const { spawn } = await import('node:child_process');
    const py = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\n'
      + 's.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = await once(py.stdout!, 'data') as [Buffer];
      const port = Number(line.toString().trim());
      const fillers: Socket[] = [];
      for (let i = 0; i < 3; i++) fillers.push(netConnect(port, '127.0.0.1').on('error', () => undefined));
      await new Promise((r) => setTimeout(r, 100));
      const blocked = await startGateway(createAliasRuntime, singleServiceConfig(8080,
        [outbound({ priority: 10, serverPort: port })], { timeouts: { connectMs: 300, upstreamHeadersMs: 5000 } }));
      try {
        const res = await get(blocked.port(8080), '/c', { host: 'x' });
        assert.equal(res.status, 504);
        await eventually(() => blocked.logs.access().some((l) => l.path === '/c'));
        assert.equal(blocked.logs.access().find((l) => l.path === '/c')!.error, 'upstream-connect-timeout');
      } finally {
        for (const f of fillers) f.destroy();
        await blocked.close();
      }
    } finally {
      py.kill();
    }
  });

  for (const path of ['/length', '/chunked']) {
    test(`upstream reset mid-response (${path}) → client connection destroyed, never a complete response`, async () => {
      const outcome = await new Promise<{ complete: boolean; bytes: number }>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port: gw.port(8080), path, agent: false, headers: { host: 'x' } }, (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => { bytes += c.length; });
          res.on('error', () => undefined);
          res.on('close', () => resolve({ complete: res.complete, bytes }));
        });
        req.on('error', () => resolve({ complete: false, bytes: -1 }));
        req.end();
      });
      assert.equal(outcome.complete, false);
      assert.equal(await reasonOf(path), 'upstream-reset');
      await eventually(() => gw.runtime.inFlight() === 0);
    });
  }
});

describe('client misbehaviour and limits', () => {
  let origin: Awaited<ReturnType<typeof startEchoOrigin>>;
  let gw: Gateway;
  const inspectors = new InspectorDouble('shop', { operationMode: 'simulation' });

  before(async () => {
    origin = await startEchoOrigin('o');
    gw = await startGateway(createAliasRuntime, singleServiceConfig(8080, [outbound({ priority: 10, serverPort: origin.port })],
      { limits: { maxHeaderCount: 20, maxUrlBytes: 200, maxRequestBodyBytes: 1000, maxHeaderBytes: 4096 } }), inspectors);
  });
  after(async () => {
    await gw.close();
    await origin.close();
  });

  const malformed: Array<[string, string, string]> = [
    ['invalid header token', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['garbage request line', 'HELLO WORLD\r\n\r\n', 'HPE_INVALID_METHOD'],
    ['CL + TE (smuggling)', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG',
      'HPE_INVALID_TRANSFER_ENCODING|HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['double Content-Length (smuggling)', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde',
      'HPE_UNEXPECTED_CONTENT_LENGTH|HPE_INVALID_CONTENT_LENGTH'],
    ['bad chunk size (smuggling)', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n',
      'HPE_INVALID_CHUNK_SIZE'],
    ['obfuscated Transfer-Encoding (smuggling)', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      'HPE_INVALID_TRANSFER_ENCODING'],
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: x\n\n', 'HPE_'],
    // RFC 9112 checks llhttp lets through (src/pipeline/request-validation.ts).
    ['fragment in the request-target', 'GET /index.html?a=b#tag HTTP/1.1\r\nHost: x\r\n\r\n', 'PORTCULLIS_TARGET_FRAGMENT'],
    ['HTTP/0.9 with headers', 'GET / HTTP/0.9\r\nHost: x\r\n\r\n', 'PORTCULLIS_BAD_VERSION'],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', 'PORTCULLIS_DUPLICATE_HOST'],
    ['empty Host', 'GET / HTTP/1.1\r\nHost: \r\n\r\n', 'PORTCULLIS_INVALID_HOST'],
    ['CONNECT target without a port', 'CONNECT www.cnn.com HTTP/1.1\r\nHost: x\r\n\r\n', 'PORTCULLIS_BAD_CONNECT_TARGET'],
    ['Host that is not a host name', 'GET / HTTP/1.1\r\nHost: localhost%00\r\n\r\n', 'PORTCULLIS_INVALID_HOST'],
  ];
  for (const [name, bytes, code] of malformed) {
    test(`malformed: ${name} → 400, nothing reaches the upstream, violation reported`, async () => {
      const seenBefore = origin.seen.length;
      const violationsBefore = inspectors.violations.length;
      const raw = await rawExchange(gw.port(8080), bytes);
      assert.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(raw, /\r\nConnection: close\r\n/i);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(origin.seen.length, seenBefore, 'the upstream saw nothing');
      assert.equal(inspectors.violations.length, violationsBefore + 1);
      assert.match(inspectors.violations.at(-1)!.reason, new RegExp(`^(${code})`));
      assert.ok(gw.logs.lines.some((l) => l.msg === 'malformed request' && new RegExp(`^(${code})`).test(String(l.reason))));
    });
  }

  test('garbage pipelined behind a valid request: the request is answered first, then 400 and close', async () => {
    const seenBefore = origin.seen.length;
    const violationsBefore = inspectors.violations.length;
    const raw = await rawExchange(gw.port(8080), 'POST /first HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nhi=test');
    assert.match(raw, /^HTTP\/1\.1 200 /, 'the complete request before the garbage keeps its answer');
    const second = raw.indexOf('HTTP/1.1 400 Bad Request\r\n');
    assert.ok(second > 0, `a 400 follows the 200: ${JSON.stringify(raw)}`);
    assert.equal(origin.seen.length, seenBefore + 1, 'only the valid request went upstream');
    await eventually(() => inspectors.violations.length === violationsBefore + 1);
  });

  test('too many headers → 431', async () => {
    const headers: Record<string, string> = { host: 'x' };
    for (let i = 0; i < 30; i++) headers[`x-h${i}`] = 'v';
    const seenBefore = origin.seen.length;
    const res = await get(gw.port(8080), '/many', headers);
    assert.equal(res.status, 431);
    assert.equal(origin.seen.length, seenBefore);
  });

  test('header bytes over maxHeaderBytes → 431 from the parser', async () => {
    const raw = await rawExchange(gw.port(8080), `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 431 /);
  });

  test('URL over maxUrlBytes → 414', async () => {
    const res = await get(gw.port(8080), `/${'a'.repeat(300)}`, { host: 'x' });
    assert.equal(res.status, 414);
  });

  test('declared body over maxRequestBodyBytes → 413 before anything is sent upstream', async () => {
    const seenBefore = origin.seen.length;
    const res = await get(gw.port(8080), '/big', { host: 'x', 'content-length': '5000' }, 'POST', 'z'.repeat(5000));
    assert.equal(res.status, 413);
    assert.equal(origin.seen.length, seenBefore);
  });

  test('chunked body growing over maxRequestBodyBytes → 413 and the upstream request is aborted', async () => {
    const raw = await rawExchange(gw.port(8080), 'POST /chunky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
      + `3e8\r\n${'a'.repeat(1000)}\r\n3e8\r\n${'b'.repeat(1000)}\r\n0\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 413 /);
    await eventually(() => gw.logs.access().some((l) => l.path === '/chunky'));
    assert.equal(gw.logs.access().find((l) => l.path === '/chunky')!.error, 'body-too-large');
    assert.ok(!origin.seen.some((s) => s.url === '/chunky' && s.complete));
  });

  test('client abort mid-upload → upstream request aborted, logged, gateway fine', async () => {
    const socket = netConnect(gw.port(8080), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /abort HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n' + 'q'.repeat(100));
    await eventually(() => gw.runtime.inFlight() === 1);
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await eventually(() => gw.logs.access().some((l) => l.path === '/abort'));
    assert.equal(gw.logs.access().find((l) => l.path === '/abort')!.error, 'client-aborted');
    await eventually(() => origin.seen.some((s) => s.url === '/abort' && !s.complete));
    await eventually(() => gw.runtime.inFlight() === 0);
    const ok = await get(gw.port(8080), '/after', { host: 'x' });
    assert.equal(ok.status, 200);
  });

  test('keep-alive: several requests on one connection, each logged once', async () => {
    const raw = await rawExchange(gw.port(8080), 'GET /ka1 HTTP/1.1\r\nHost: x\r\n\r\nGET /ka2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(raw.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
    await eventually(() => gw.logs.access().some((l) => l.path === '/ka2'));
    const lines = gw.logs.access().filter((l) => l.path === '/ka1' || l.path === '/ka2');
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.conn, lines[1]!.conn);
  });
});
