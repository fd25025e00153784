/**
 * The HTTP/1.1 front end (src/pipeline/http1/server.ts) on real sockets: exact bytes on the wire for
 * framing, pipelining, Expect, upgrades, timeouts and drain.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, Agent } from 'node:http';
import { connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { after, describe, test } from 'node:test';
import { createHttp1Server, type Http1Front, type Http1Handlers, type Http1ServerOptions } from '../../src/pipeline/http1/server.js';
import type { GatewayRequest, GatewayResponse } from '../../src/pipeline/http1/types.js';
import { createTestPki } from '../helpers/certs.js';

interface ClientErrorSeen {
  readonly code: string | undefined;
  readonly inFlight: boolean;
}

interface TestServer {
  readonly port: number;
  readonly server: Server;
  readonly front: Http1Front;
  readonly clientErrors: ClientErrorSeen[];
  readonly bugs: unknown[];
  close(): Promise<void>;
}

const DEFAULTS: Http1ServerOptions = { maxHeaderSize: 16384, headersTimeout: 5000, keepAliveTimeout: 5000 };
const open: TestServer[] = [];
after(async () => {
  for (const s of open) await s.close();
});

async function serve(onRequest: (req: GatewayRequest, res: GatewayResponse) => void,
  options: Partial<Http1ServerOptions> = {}, extra: Partial<Http1Handlers> = {},
  tlsOptions: import('node:tls').TlsOptions | null = null): Promise<TestServer> {
  const clientErrors: ClientErrorSeen[] = [];
  const bugs: unknown[] = [];
  const handlers: Http1Handlers = {
    onRequest,
    onUpgrade: (_req, socket) => socket.destroy(),
    onClientError: (err, socket, inFlight) => {
      clientErrors.push({ code: err.code, inFlight: inFlight !== null });
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable && inFlight?.headersSent !== true) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else socket.destroy();
    },
    onBug: (err) => bugs.push(err),
    ...extra,
  };
  const { server, front } = createHttp1Server({ ...DEFAULTS, ...options }, handlers, tlsOptions);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const entry: TestServer = {
    port: (server.address() as AddressInfo).port, server, front, clientErrors, bugs,
    async close() {
      server.close();
      front.closeAllConnections();
      if (server.listening) await once(server, 'close');
    },
  };
  open.push(entry);
  return entry;
}

/** A raw client: write bytes, collect everything, resolve on close (or after `ms`). */
function raw(port: number, bytes: string | string[], ms = 2000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
    const parts = Array.isArray(bytes) ? bytes : [bytes];
    let i = 0;
    const next = (): void => {
      if (i < parts.length) socket.write(parts[i++]!, 'latin1', () => setTimeout(next, 30));
    };
    next();
  });
}

/** Reads from `socket` until `predicate(text)` holds. */
async function readUntil(socket: Socket, predicate: (text: string) => boolean, ms = 2000): Promise<string> {
  let text = '';
  const deadline = Date.now() + ms;
  while (!predicate(text)) {
    if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(text)}`);
    const chunk = socket.read() as Buffer | null;
    if (chunk === null) await Promise.race([once(socket, 'readable'), once(socket, 'close'), new Promise((r) => setTimeout(r, 50))]);
    else text += chunk.toString('latin1');
  }
  return text;
}

function statusLines(text: string): string[] {
  return text.split('\r\n').filter((l) => l.startsWith('HTTP/1.1 '));
}

function bodyText(req: GatewayRequest): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

describe('HTTP/1.1 front end', () => {
  test('pipelined requests are answered in order, even when later ones finish first', async () => {
    const delays: Record<string, number> = { '/a': 150, '/b': 10, '/c': 60 };
    const started: string[] = [];
    const s = await serve((req, res) => {
      started.push(req.url!);
      setTimeout(() => res.end(`body ${req.url}`), delays[req.url!]);
    });
    const pipelined = ['/a', '/b', '/c'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
    const { text } = await raw(s.port, pipelined + 'GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 3000);
    const bodies = text.match(/body \/[a-z]+/g);
    assert.deepEqual(bodies, ['body /a', 'body /b', 'body /c', 'body /last']);
    // One at a time: a pipelined request reaches the handler only after the previous response.
    assert.deepEqual(started, ['/a', '/b', '/c', '/last']);
    assert.match(text, /Connection: close\r\n/);
  });

  test('a pipelined request with a body waits, then gets its body', async () => {
    const s = await serve((req, res) => {
      void bodyText(req).then((body) => setTimeout(() => res.end(`${req.url}=${body}`), req.url === '/1' ? 80 : 0));
    });
    const { text } = await raw(s.port, 'POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'
      + 'POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndefg');
    assert.deepEqual(text.match(/\/\d=[a-z]+/g), ['/1=abc', '/2=defg']);
  });

  test('Expect: 100-continue is answered before the handler runs; other expectations get 417', async () => {
    let handled = 0;
    const s = await serve((req, res) => {
      handled++;
      void bodyText(req).then((body) => res.end(`got ${body}`));
    });
    const socket = netConnect(s.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    const interim = await readUntil(socket, (t) => t.includes('\r\n\r\n'));
    assert.equal(interim, 'HTTP/1.1 100 Continue\r\n\r\n');
    socket.write('hello');
    const final = await readUntil(socket, (t) => t.includes('got hello'));
    assert.match(final, /^HTTP\/1\.1 200 OK\r\n/);
    socket.destroy();

    const { text } = await raw(s.port, 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: something-else\r\n\r\nz');
    assert.match(text, /^HTTP\/1\.1 417 Expectation Failed\r\n/);
    assert.match(text, /Connection: close/);
    assert.equal(handled, 1, 'the handler never saw the 417 request');
  });

  test('HTTP/1.0: closed after the response unless keep-alive was asked; no Content-Length means close-delimited', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, ['content-type', 'text/plain']);
        res.write('part1 ');
        res.end('part2');
      } else {
        res.end('fixed');
      }
    });
    const plain = await raw(s.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(plain.closed, true);
    assert.match(plain.text, /Connection: close\r\n/);
    assert.match(plain.text, /Content-Length: 5\r\n/);

    const socket = netConnect(s.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const first = await readUntil(socket, (t) => t.endsWith('fixed'));
    assert.match(first, /Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n/);
    socket.write('GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const second = await readUntil(socket, (t) => t.endsWith('part1 part2'));
    // No length known and no chunked for 1.0: the body runs to the close.
    assert.doesNotMatch(second, /Transfer-Encoding/i);
    assert.match(second, /Connection: close\r\n/);
    await once(socket, 'close');
  });

  test('HTTP/1.1 bodies without Content-Length are re-chunked per write; Content-Length bodies pass as written', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, ['X-Test', '1']);
        res.write('abc');
        res.write(Buffer.alloc(0)); // must not read as the terminator
        res.write(Buffer.from('defgh'));
        res.end('ij');
      } else {
        res.writeHead(200, ['Content-Length', '6']);
        res.write('abc');
        res.end('def');
      }
    });
    const { text } = await raw(s.port, 'GET /chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /length HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const [chunked, length] = text.split(/(?=HTTP\/1\.1 200)/);
    assert.match(chunked!, /Transfer-Encoding: chunked\r\n/);
    assert.ok(chunked!.endsWith('\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n2\r\nij\r\n0\r\n\r\n'), JSON.stringify(chunked));
    assert.doesNotMatch(length!, /Transfer-Encoding/);
    assert.ok(length!.endsWith('\r\n\r\nabcdef'));
  });

  test('no body for HEAD, 204 and 304, whatever the handler writes', async () => {
    const s = await serve((req, res) => {
      const status = req.url === '/204' ? 204 : req.url === '/304' ? 304 : 200;
      res.writeHead(status, status === 200 ? ['Content-Length', '5'] : []);
      res.write('hello');
      res.end();
    });
    const { text } = await raw(s.port, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\n'
      + 'GET /304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified']);
    assert.doesNotMatch(text, /hello/);
    assert.doesNotMatch(text, /Transfer-Encoding/);
    assert.match(text, /Content-Length: 5\r\n/, 'HEAD keeps the length the GET would have');
  });

  test('a Date header unless the handler sent one', async () => {
    const s = await serve((req, res) => {
      res.writeHead(200, req.url === '/own' ? ['date', 'Tue, 01 Jan 2030 00:00:00 GMT', 'Content-Length', '0'] : ['Content-Length', '0']);
      res.end();
    });
    const { text } = await raw(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /own HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const [first, second] = text.split(/(?=HTTP\/1\.1 200)/);
    const date = /\r\nDate: ([^\r]+)\r\n/.exec(first!)?.[1];
    assert.ok(date !== undefined && Math.abs(Date.parse(date) - Date.now()) < 5000, `Date: ${date}`);
    assert.equal(second!.match(/date:/gi)?.length, 1);
    assert.match(second!, /date: Tue, 01 Jan 2030/);
  });

  test('invalid header names, values and status texts throw and leave the response unwritten', async () => {
    const outcomes: string[] = [];
    const s = await serve((_req, res) => {
      for (const attempt of [
        () => res.writeHead(200, ['x-ok', 'line\r\nInjected: yes']),
        () => res.writeHead(200, ['bad name', 'v']),
        () => res.writeHead(200, 'OK\r\nX: y', []),
        () => res.writeHead(200, ['x-nul', 'a\u0000b']),
        () => res.writeHead(42, []),
      ]) {
        try {
          attempt();
          outcomes.push('accepted');
        } catch (err) {
          outcomes.push((err as { code?: string }).code ?? 'no code');
        }
      }
      outcomes.push(`headersSent=${res.headersSent}`);
      res.writeHead(502, ['Content-Length', '0', 'Connection', 'close']);
      res.end();
    });
    const { text } = await raw(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(outcomes, ['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_CHAR', 'ERR_INVALID_CHAR',
      'ERR_HTTP_INVALID_STATUS_CODE', 'headersSent=false']);
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.doesNotMatch(text, /Injected/);
  });

  test('a head that does not complete in time gets 408 through the clientError path', async () => {
    const s = await serve((_req, res) => res.end('never'), { headersTimeout: 300 });
    const started = Date.now();
    const { text, closed } = await raw(s.port, ['GET / HTTP/1.1\r\n', 'Host: x\r\n'], 3000);
    assert.equal(closed, true);
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - started >= 280, 'not before the timeout');
    assert.deepEqual(s.clientErrors, [{ code: 'ERR_HTTP_REQUEST_TIMEOUT', inFlight: false }]);
  });

  test('an idle keep-alive connection closes after keepAliveTimeout; the head timeout counts from its next message', async () => {
    const s = await serve((_req, res) => res.end('ok'), { keepAliveTimeout: 300, headersTimeout: 2000 });
    const socket = netConnect(s.port, '127.0.0.1');
    await once(socket, 'connect');
    const t0 = Date.now();
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await readUntil(socket, (t) => t.endsWith('ok'));
    await once(socket, 'close');
    const idle = Date.now() - t0;
    assert.ok(idle >= 280 && idle < 1500, `closed after ${idle} ms`);
    assert.deepEqual(s.clientErrors, [], 'an idle close is not a client error');
  });

  test('malformed requests reach the clientError handler with llhttp\'s code', async () => {
    const s = await serve((_req, res) => res.end('x'));
    const bad = await raw(s.port, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    assert.match(bad.text, /^HTTP\/1\.1 400 /);
    const method = await raw(s.port, 'BREW / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(method.text, /^HTTP\/1\.1 400 /);
    const big = await raw(s.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    assert.equal(big.closed, true);
    assert.deepEqual(s.clientErrors.map((e) => e.code), ['HPE_INVALID_TRANSFER_ENCODING', 'HPE_INVALID_METHOD', 'HPE_HEADER_OVERFLOW']);
  });

  test('a handler that throws costs one 500, and the server keeps serving', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/boom') throw new Error('handler bug');
      res.end('fine');
    });
    const boom = await raw(s.port, 'GET /boom HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(boom.text, /^HTTP\/1\.1 500 /);
    assert.equal(boom.closed, true);
    const fine = await raw(s.port, 'GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(fine.text, /fine$/);
    assert.equal(s.bugs.length, 1);
  });

  test('a listener that throws later (body event) costs the connection, not the process', async () => {
    const s = await serve((req) => {
      req.on('data', () => {
        throw new Error('listener bug');
      });
    });
    const { closed } = await raw(s.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    assert.equal(closed, true);
    assert.equal(s.bugs.length, 1);
  });

  test('an upgrade gets the socket and the bytes after the head; pipelined bytes are not parsed as HTTP', async () => {
    const seen: Array<{ url: string; head: string }> = [];
    const s = await serve((_req, res) => res.end('plain'), {}, {
      onUpgrade: (req, socket: Duplex, head) => {
        seen.push({ url: req.url!, head: head.toString('latin1') });
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
        socket.write(head);
        socket.on('data', (d: Buffer) => socket.write(d));
      },
    });
    const socket = netConnect(s.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /before HTTP/1.1\r\nHost: x\r\n\r\n');
    await readUntil(socket, (t) => t.endsWith('plain'));
    socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nEARLY GET / HTTP/1.1\r\n');
    const answer = await readUntil(socket, (t) => t.includes('EARLY GET / HTTP/1.1\r\n'));
    assert.match(answer, /^HTTP\/1\.1 101 /);
    socket.write('later bytes');
    await readUntil(socket, (t) => t.includes('later bytes'));
    socket.destroy();
    assert.deepEqual(seen, [{ url: '/ws', head: 'EARLY GET / HTTP/1.1\r\n' }]);
    assert.equal(s.front.connections.size, 0, 'an upgraded socket is no longer an HTTP connection');
  });

  test('an upgrade pipelined behind requests waits for their responses, in order', async () => {
    const s = await serve((req, res) => setTimeout(() => res.end(`answer ${req.url}`), req.url === '/a' ? 60 : 0), {}, {
      onUpgrade: (_req, socket: Duplex, head) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
        socket.end(head);
      },
    });
    const { text } = await raw(s.port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n'
      + 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\ntunnel bytes');
    const a = text.indexOf('answer /a');
    const b = text.indexOf('answer /b');
    const upgraded = text.indexOf('HTTP/1.1 101');
    assert.ok(a >= 0 && a < b && b < upgraded, JSON.stringify(text));
    assert.ok(text.endsWith('\r\n\r\ntunnel bytes'), JSON.stringify(text));
  });

  test("the response's 'close' fires once: after a complete response, or when the client vanished", async () => {
    const closes: Array<{ url: string; finished: boolean }> = [];
    const s = await serve((req, res) => {
      let count = 0;
      res.on('close', () => {
        count++;
        closes.push({ url: req.url!, finished: res.writableFinished });
        assert.equal(count, 1);
      });
      if (req.url === '/done') res.end('x');
      // '/hang' never answers; the client goes away.
    });
    await raw(s.port, 'GET /done HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await raw(s.port, 'GET /hang HTTP/1.1\r\nHost: x\r\n\r\n', 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(closes, [{ url: '/done', finished: true }, { url: '/hang', finished: false }]);
  });

  test('request bodies: pause() stops delivery, resume() continues, end after the last byte', async () => {
    const events: string[] = [];
    const s = await serve((req, res) => {
      req.on('data', (c: Buffer) => {
        events.push(`data ${c.length}`);
        req.pause();
        setTimeout(() => {
          events.push('resume');
          req.resume();
        }, 30);
      });
      req.on('end', () => {
        events.push('end');
        res.end('done');
      });
    });
    const { text } = await raw(s.port, ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n', '2\r\nde\r\n0\r\n\r\n']);
    assert.match(text, /done$/);
    assert.deepEqual(events, ['data 3', 'resume', 'data 2', 'resume', 'end']);
  });

  test('drain: idle connections close at once; a busy one gets its response with Connection: close, then closes', async () => {
    let release = null as (() => void) | null;
    const s = await serve((req, res) => {
      if (req.url === '/slow') release = () => res.end('slow done');
      else res.end('quick');
    });
    const idle = netConnect(s.port, '127.0.0.1');
    await once(idle, 'connect');
    idle.write('GET /quick HTTP/1.1\r\nHost: x\r\n\r\n');
    await readUntil(idle, (t) => t.endsWith('quick'));
    const busy = netConnect(s.port, '127.0.0.1');
    await once(busy, 'connect');
    busy.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    while (release === null) await new Promise((r) => setTimeout(r, 10));
    const idleClosed = once(idle, 'close');
    const busyClosed = once(busy, 'close');
    const serverClosed = once(s.server, 'close');
    s.server.close();
    s.front.drain();
    await idleClosed;
    assert.equal(busy.destroyed, false, 'the busy connection is still open');
    release!();
    const text = await readUntil(busy, (t) => t.endsWith('slow done'));
    assert.match(text, /Connection: close\r\n/);
    await busyClosed;
    await serverClosed;
  });

  test('TLS: the parser consumes the TLS socket too; keep-alive and SNI-aware sockets work', async () => {
    const pki = createTestPki();
    const s = await serve((req, res) => res.end(`tls ${req.url} ${(req.socket as import('node:tls').TLSSocket).encrypted}`), {}, {},
      (() => { const pem = pki.server("localhost", ["localhost"], ["127.0.0.1"]); return { key: pem.key, cert: pem.cert }; })());
    const socket = tlsConnect({ port: s.port, host: '127.0.0.1', ca: pki.ca.cert, servername: 'localhost' });
    await once(socket, 'secureConnect');
    socket.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
    await readUntil(socket as unknown as Socket, (t) => t.endsWith('tls /one true'));
    socket.write('GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await readUntil(socket as unknown as Socket, (t) => t.endsWith('tls /two true'));
    socket.destroy();
  });

  test('node:http clients: keep-alive reuse through an Agent, bodies both ways', async () => {
    const s = await serve((req, res) => {
      void bodyText(req).then((body) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length + 3 });
        res.end(`re:${body}`);
      });
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (body: string): Promise<{ body: string; reused: boolean }> => new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/', agent }, (res) => {
        let text = '';
        res.setEncoding('latin1').on('data', (d: string) => (text += d)).on('end', () => resolve({ body: text, reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.deepEqual(await ask('one'), { body: 're:one', reused: false });
    assert.deepEqual(await ask('two'), { body: 're:two', reused: true });
    agent.destroy();
  });
});
