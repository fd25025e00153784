/**
 * Http1Pool against real origins on 127.0.0.1 port 0: node:http servers, raw TCP servers that say exactly
 * the bytes a case needs (1xx, malformed heads, resets), and TLS servers with certificates generated at
 * test time. Both ways of reading are covered: the parser consuming the socket's native handle (default)
 * and the parser fed from 'data' events (consumeHandle: false).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { buildConnector } from 'undici';
import { classifyUpstreamError } from '../../src/pipeline/failure-answers.js';
import { Http1Pool, type Http1Handler, type Http1PoolOptions, type Http1RequestOptions } from '../../src/pipeline/http1/upstream-client.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';

// ---- helpers ------------------------------------------------------------------------------------------

interface Result {
  status: number;
  statusText: string;
  headers: string[];
  body: Buffer;
  informational: { status: number; headers: string[] }[];
  trailers: string[] | null;
}

/** Records every callback; completes or fails exactly once (a second report fails the test). */
class Collector implements Http1Handler {
  readonly events: string[] = [];
  readonly result: Result = { status: 0, statusText: '', headers: [], body: Buffer.alloc(0), informational: [], trailers: null };
  private chunks: Buffer[] = [];
  abort: ((err?: Error) => void) | null = null;
  resume: (() => void) | null = null;
  readonly done: Promise<Result>;
  private settle!: { resolve: (r: Result) => void; reject: (e: Error) => void };
  private settled = false;

  constructor(private readonly hooks: Partial<Http1Handler> = {}) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.events.push('connect');
    this.abort = abort;
    this.hooks.onConnect?.(abort);
  }

  onHeaders(status: number, headers: string[], resume: () => void, statusText: string): boolean {
    this.events.push(`headers ${status}`);
    this.resume = resume;
    if (status < 200) this.result.informational.push({ status, headers });
    else Object.assign(this.result, { status, statusText, headers });
    return this.hooks.onHeaders?.(status, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    this.events.push('data');
    this.chunks.push(chunk);
    return this.hooks.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.events.push('complete');
    this.hooks.onComplete?.(trailers);
    this.finish(null, trailers);
  }

  onError(err: Error): void {
    this.events.push(`error ${String((err as { code?: unknown }).code)}`);
    this.finish(err, null);
  }

  private finish(err: Error | null, trailers: string[] | null): void {
    if (this.settled) {
      this.settle.reject(new Error(`reported twice: ${this.events.join(', ')}`));
      return;
    }
    this.settled = true;
    this.result.body = Buffer.concat(this.chunks);
    this.result.trailers = trailers;
    if (err !== null) this.settle.reject(err);
    else this.settle.resolve(this.result);
  }
}

function send(pool: Http1Pool, opts: Partial<Http1RequestOptions> = {}, hooks: Partial<Http1Handler> = {}): Collector {
  const c = new Collector(hooks);
  pool.dispatch({ path: '/', method: 'GET', headers: ['host', 'origin.test'], body: null, ...opts }, c);
  return c;
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
  throw new Error('expected a failure');
}

function header(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return headers[i + 1];
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function listen<S extends NetServer | HttpServer>(server: S): Promise<S & { port: number }> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

/** A node:http origin that answers with its own handler and counts the sockets it saw. */
async function httpOrigin(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  const server = createHttpServer(handler);
  server.on('connection', (s: Socket) => sockets.add(s));
  await listen(server);
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A raw TCP origin: `onSocket` says exactly what it wants. */
async function rawOrigin(onSocket: (socket: Socket, index: number) => void) {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onSocket(socket, sockets.length - 1);
  });
  await listen(server);
  return {
    port: (server.address() as AddressInfo).port,
    server,
    sockets,
    async close(): Promise<void> {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Calls `onRequest(head, socket)` for each request head (requests without bodies) on a raw socket. */
function onHeads(socket: Socket, onRequest: (head: string, n: number) => void): void {
  let buffered = '';
  let n = 0;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buffered += d;
    let end: number;
    while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
      const head = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      onRequest(head, n++);
    }
  });
}

const pools: Http1Pool[] = [];
function pool(port: number, options: Partial<Http1PoolOptions> = {}, scheme = 'http'): Http1Pool {
  const p = new Http1Pool(`${scheme}://127.0.0.1:${port}`, { connect: buildConnector({ timeout: 2000 }), ...options });
  pools.push(p);
  return p;
}

after(async () => {
  await Promise.all(pools.map((p) => p.destroy()));
});

// ---- plain HTTP, both read paths --------------------------------------------------------------------

for (const consumeHandle of [true, false]) {
  describe(`Http1Pool over plain TCP (${consumeHandle ? 'parser consumes the socket handle' : "parser fed from 'data' events"})`, () => {
    let origin: Awaited<ReturnType<typeof httpOrigin>>;
    const seen: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer; port: number }[] = [];

    before(async () => {
      origin = await httpOrigin((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, port: req.socket.remotePort! });
          const url = new URL(req.url!, 'http://x');
          if (url.pathname === '/chunked') {
            res.write('part one, ');
            setImmediate(() => res.end('part two'));
            return;
          }
          if (url.pathname === '/status') {
            res.writeHead(Number(url.searchParams.get('code')), { 'content-length': '5', etag: '"x"' });
            res.end(req.method === 'HEAD' || url.searchParams.get('code') !== '200' ? undefined : 'hello');
            return;
          }
          if (url.pathname === '/close') {
            res.setHeader('connection', 'close');
            res.end('bye');
            return;
          }
          if (url.pathname === '/slow') {
            setTimeout(() => res.end(`slow ${req.socket.remotePort}`), 100);
            return;
          }
          res.end(`${req.method} ${req.url} ${body.length}`);
        });
      });
    });
    after(() => origin.close());

    const P = (options: Partial<Http1PoolOptions> = {}) => pool(origin.port, { consumeHandle, ...options });

    test('sequential GETs reuse one socket; Host is kept as given, added when missing', async () => {
      const p = P();
      seen.length = 0;
      const a = await send(p, { path: '/a?x=1', headers: ['Host', 'client.example', 'X-Test', 'one'] }).done;
      const b = await send(p, { path: '/b', headers: ['x-test', 'two'] }).done;
      assert.equal(a.status, 200);
      assert.equal(a.body.toString(), 'GET /a?x=1 0');
      assert.equal(b.body.toString(), 'GET /b 0');
      assert.equal(seen[0]!.port, seen[1]!.port, 'the second request went on the same socket');
      assert.equal(seen[0]!.headers.host, 'client.example');
      assert.equal(seen[1]!.headers.host, `127.0.0.1:${origin.port}`);
      assert.equal(seen[0]!.headers['x-test'], 'one');
      assert.equal(typeof a.headers[0], 'string', 'raw headers are strings');
      assert.equal(header(a.headers, 'content-length'), '12');
      assert.deepEqual(p.stats, { connected: 1, free: 1, connecting: 0, running: 0, pending: 0, queued: 0, size: 0 });
    });

    test('more concurrent requests than connections wait in order, on at most `connections` sockets', async () => {
      const p = P({ connections: 2 });
      seen.length = 0;
      const all = Array.from({ length: 6 }, (_, i) => send(p, { path: `/slow?i=${i}` }));
      await sleep(20);
      assert.equal(p.stats.running, 2);
      assert.equal(p.stats.queued, 4);
      const results = await Promise.all(all.map((c) => c.done));
      assert.ok(results.every((r) => r.status === 200));
      assert.equal(new Set(seen.map((s) => s.port)).size, 2, 'two sockets served six requests');
      // First in, first out: the requests reached the origin in dispatch order (two at a time).
      assert.deepEqual(seen.map((s) => s.url), Array.from({ length: 6 }, (_, i) => `/slow?i=${i}`));
    });

    test('a Buffer body goes with a Content-Length; a POST without body says Content-Length: 0', async () => {
      const p = P();
      seen.length = 0;
      const r = await send(p, { method: 'POST', path: '/form', headers: ['host', 'h', 'content-type', 'text/plain'], body: Buffer.from('a=1&b=2') }).done;
      assert.equal(r.body.toString(), 'POST /form 7');
      assert.equal(seen[0]!.headers['content-length'], '7');
      assert.equal(seen[0]!.body.toString(), 'a=1&b=2');
      await send(p, { method: 'POST', path: '/empty' }).done;
      assert.equal(seen[1]!.headers['content-length'], '0');
      await send(p, { method: 'GET', path: '/get' }).done;
      assert.equal(seen[2]!.headers['content-length'], undefined);
      assert.equal(seen[2]!.headers['transfer-encoding'], undefined);
    });

    test('a streamed body without Content-Length goes chunked; with one, as is', async () => {
      const p = P();
      seen.length = 0;
      const parts = [Buffer.from('first '), Buffer.from('second '), Buffer.from('third')];
      await send(p, { method: 'PUT', path: '/up', body: Readable.from(parts) }).done;
      assert.equal(seen[0]!.headers['transfer-encoding'], 'chunked');
      assert.equal(seen[0]!.body.toString(), 'first second third');
      await send(p, { method: 'PUT', path: '/up2', headers: ['host', 'h', 'Content-Length', '18'], body: Readable.from(parts) }).done;
      assert.equal(seen[1]!.headers['transfer-encoding'], undefined);
      assert.equal(seen[1]!.headers['content-length'], '18');
      assert.equal(seen[1]!.body.toString(), 'first second third');
      assert.equal(seen[0]!.port, seen[1]!.port, 'a fully written streamed request leaves the socket reusable');
    });

    test('a chunked response arrives whole', async () => {
      const r = await send(P(), { path: '/chunked' }).done;
      assert.equal(header(r.headers, 'transfer-encoding'), 'chunked');
      assert.equal(r.body.toString(), 'part one, part two');
    });

    test('HEAD, 204 and 304 have no body; 204/304 keep the socket, HEAD does not (as undici)', async () => {
      const p = P();
      seen.length = 0;
      const head = await send(p, { method: 'HEAD', path: '/status?code=200' }).done;
      assert.equal(head.status, 200);
      assert.equal(header(head.headers, 'content-length'), '5');
      assert.equal(head.body.length, 0);
      const noContent = await send(p, { path: '/status?code=204' }).done;
      const notModified = await send(p, { path: '/status?code=304' }).done;
      const after304 = await send(p, { path: '/status?code=200' }).done;
      assert.deepEqual([noContent.status, noContent.body.length, notModified.status, notModified.body.length], [204, 0, 304, 0]);
      assert.equal(after304.body.toString(), 'hello');
      assert.notEqual(seen[0]!.port, seen[1]!.port, 'HEAD closed its socket');
      assert.equal(seen[1]!.port, seen[2]!.port);
      assert.equal(seen[2]!.port, seen[3]!.port);
    });

    test('Connection: close from the server closes the socket after the response', async () => {
      const p = P();
      seen.length = 0;
      const r = await send(p, { path: '/close' }).done;
      assert.equal(r.body.toString(), 'bye');
      await until('the socket to close', () => p.stats.connected === 0);
      await send(p, { path: '/next' }).done;
      assert.notEqual(seen[0]!.port, seen[1]!.port);
    });

    test('close() lets a running request finish, refuses new ones and resolves when all is closed', async () => {
      const p = P();
      const running = send(p, { path: '/slow' });
      await sleep(20);
      const closed = p.close();
      assert.equal(await code(send(p, { path: '/late' }).done), 'UND_ERR_CLOSED');
      assert.equal((await running.done).status, 200);
      await closed;
      assert.equal(p.stats.connected, 0);
    });

    test('destroy() fails running and waiting requests now', async () => {
      const p = P({ connections: 1 });
      const running = send(p, { path: '/slow' });
      const waiting = send(p, { path: '/slow' });
      const failures = Promise.all([code(running.done), code(waiting.done)]);
      await sleep(20);
      await p.destroy();
      assert.deepEqual(await failures, ['UND_ERR_DESTROYED', 'UND_ERR_DESTROYED']);
      assert.equal(await code(send(p).done), 'UND_ERR_DESTROYED');
    });
  });
}

// ---- responses that need exact bytes ----------------------------------------------------------------

describe('Http1Pool: interim responses, server behaviour and failures (raw origins)', () => {
  test('1xx interim responses reach onHeaders, then the final response', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => {
      s.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
      setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 20);
    }));
    try {
      const c = send(pool(origin.port));
      const r = await c.done;
      assert.deepEqual(r.informational, [{ status: 103, headers: ['Link', '</style.css>; rel=preload'] }]);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ok');
      assert.deepEqual(c.events, ['connect', 'headers 103', 'headers 200', 'data', 'complete']);
    } finally {
      await origin.close();
    }
  });

  test('a head of more than 32 header lines (node flushes them early) reaches onHeaders whole', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `X-H${i}: v${i}\r\n`).join('');
    const origin = await rawOrigin((s) => onHeads(s, () => s.write(`HTTP/1.1 200 OK\r\n${lines}Content-Length: 2\r\n\r\nok`)));
    try {
      const r = await send(pool(origin.port)).done;
      assert.equal(r.headers.length, 82);
      assert.equal(header(r.headers, 'x-h0'), 'v0');
      assert.equal(header(r.headers, 'x-h39'), 'v39');
      assert.equal(header(r.headers, 'content-length'), '2');
      assert.equal(r.body.toString(), 'ok');
    } finally {
      await origin.close();
    }
  });

  test('a connector that throws or calls back with an error: the request fails with that error', async () => {
    const thrown = Object.assign(new Error('no route'), { code: 'EHOSTUNREACH' });
    const throwing = new Http1Pool('http://127.0.0.1:9', { connect: () => { throw thrown; } });
    const failing = new Http1Pool('http://127.0.0.1:9', { connect: (_o, cb) => setImmediate(() => cb(thrown, null)) });
    pools.push(throwing, failing);
    assert.equal(await send(throwing).done.catch((e: unknown) => e), thrown);
    assert.equal(await send(failing).done.catch((e: unknown) => e), thrown);
    assert.equal(classifyUpstreamError(thrown).reason, 'upstream-unreachable');
    assert.equal(throwing.stats.connecting + failing.stats.connecting, 0);
  });

  test('trailers of a chunked response are given to onComplete', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n2\r\nhi\r\n0\r\nX-Checksum: abc\r\n\r\n');
    }));
    try {
      const r = await send(pool(origin.port)).done;
      assert.equal(r.body.toString(), 'hi');
      assert.deepEqual(r.trailers, ['X-Checksum', 'abc']);
    } finally {
      await origin.close();
    }
  });

  test("a server's Keep-Alive: timeout= shorter than the threshold means the socket is not reused", async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => {
      s.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 1\r\n\r\nx');
    }));
    try {
      const p = pool(origin.port);
      await send(p).done;
      await send(p).done;
      assert.equal(origin.sockets.length, 2);
      const reusing = await rawOrigin((s) => onHeads(s, () => {
        s.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=10\r\nContent-Length: 1\r\n\r\nx');
      }));
      const q = pool(reusing.port);
      await send(q).done;
      await send(q).done;
      assert.equal(reusing.sockets.length, 1);
      await reusing.close();
    } finally {
      await origin.close();
    }
  });

  test('idle sockets close after keepAliveTimeout when the server names no timeout', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx')));
    try {
      const p = pool(origin.port, { keepAliveTimeout: 200, keepAliveTimeoutThreshold: 0 });
      await send(p).done;
      assert.equal(p.stats.free, 1);
      const t0 = Date.now();
      await until('the idle socket to close', () => p.stats.connected === 0, 2000);
      assert.ok(Date.now() - t0 <= 300, `closed after ${Date.now() - t0} ms`);
      await until('the origin to see it', () => origin.sockets[0]!.readableEnded || origin.sockets[0]!.destroyed);
    } finally {
      await origin.close();
    }
  });

  test('a server closing an idle keep-alive socket: the next request gets a fresh one', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => s.end(), 30);
    }));
    try {
      const p = pool(origin.port);
      await send(p).done;
      await until('the pool to notice the close', () => p.stats.connected === 0);
      assert.equal((await send(p).done).body.toString(), 'ok');
      assert.equal(origin.sockets.length, 2);
    } finally {
      await origin.close();
    }
  });

  test('a reused socket that dies as a GET is sent on: the GET is replayed once on a new socket', async () => {
    // The server answers the first request, then closes the socket when the second arrives (the race a
    // keep-alive client always has with a server's idle timeout).
    const origin = await rawOrigin((s, index) => onHeads(s, (_head, n) => {
      if (index === 0 && n === 1) {
        s.destroy();
        return;
      }
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }));
    try {
      const p = pool(origin.port);
      await send(p).done;
      const replayed = send(p);
      assert.equal((await replayed.done).body.toString(), 'ok');
      assert.deepEqual(replayed.events.filter((e) => e === 'connect'), ['connect'], 'onConnect once');
      assert.equal(origin.sockets.length, 2);
      // A POST is not replayed: its failure is reported.
      await send(p).done;
      const post = await rawOrigin((s) => onHeads(s, (_head, n) => {
        if (n === 1) s.destroy();
        else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }));
      const q = pool(post.port);
      await send(q, { method: 'POST' }).done;
      assert.equal(await code(send(q, { method: 'POST' }).done), 'UND_ERR_SOCKET');
      await post.close();
    } finally {
      await origin.close();
    }
  });

  test('a replayed GET whose new connection is refused reports the socket error it was replayed for', async () => {
    const origin = await rawOrigin((s) => onHeads(s, (_head, n) => {
      if (n === 1) {
        origin.server.close(); // no new connections from now on
        s.destroy();
        return;
      }
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }));
    try {
      const p = pool(origin.port);
      await send(p).done;
      const failure = await send(p).done.catch((e: unknown) => e) as { code?: string; cause?: { code?: string } };
      assert.equal(failure.code, 'UND_ERR_SOCKET', 'the caller may still retry it elsewhere');
      assert.equal(failure.cause?.code, 'ECONNREFUSED');
    } finally {
      await origin.close();
    }
  });

  test('refused → ECONNREFUSED (classified upstream-refused)', async () => {
    const probe = await listen(createNetServer());
    const port = probe.port;
    await new Promise((r) => probe.close(r));
    const p = pool(port);
    const c = send(p);
    let failure: unknown;
    await c.done.catch((e: unknown) => (failure = e));
    assert.equal((failure as { code?: string }).code, 'ECONNREFUSED');
    assert.equal(classifyUpstreamError(failure).reason, 'upstream-refused');
    assert.deepEqual(c.events, ['error ECONNREFUSED'], 'no onConnect before a failed connect');
    assert.equal(p.stats.connected + p.stats.connecting + p.stats.queued, 0);
  });

  test('headers timeout → UND_ERR_HEADERS_TIMEOUT, not before headersTimeout', async () => {
    const origin = await rawOrigin(() => undefined);
    try {
      const p = pool(origin.port, { headersTimeout: 200 });
      const t0 = Date.now();
      const failure = await send(p).done.catch((e: unknown) => e);
      const elapsed = Date.now() - t0;
      assert.equal((failure as { code?: string }).code, 'UND_ERR_HEADERS_TIMEOUT');
      assert.equal(classifyUpstreamError(failure).reason, 'upstream-timeout');
      assert.ok(elapsed >= 200 && elapsed < 1500, `fired after ${elapsed} ms`);
    } finally {
      await origin.close();
    }
  });

  test('body timeout between chunks → UND_ERR_BODY_TIMEOUT', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst');
    }));
    try {
      const c = send(pool(origin.port, { bodyTimeout: 200 }));
      assert.equal(await code(c.done), 'UND_ERR_BODY_TIMEOUT');
      assert.deepEqual(c.events, ['connect', 'headers 200', 'data', 'error UND_ERR_BODY_TIMEOUT']);
    } finally {
      await origin.close();
    }
  });

  test('reset or close mid-body → UND_ERR_SOCKET (classified upstream-reset)', async () => {
    const origin = await rawOrigin((s, index) => onHeads(s, () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial', () => {
        setTimeout(() => (index === 0 ? s.resetAndDestroy() : s.end()), 20);
      });
    }));
    try {
      const p = pool(origin.port);
      const reset = await send(p).done.catch((e: unknown) => e);
      assert.equal((reset as { code?: string }).code, 'UND_ERR_SOCKET');
      assert.equal(classifyUpstreamError(reset).reason, 'upstream-reset');
      assert.equal(await code(send(p).done), 'UND_ERR_SOCKET', 'FIN before the end of the body');
    } finally {
      await origin.close();
    }
  });

  test('a body delimited by the end of the connection completes at the close', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => {
      s.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    }));
    try {
      const r = await send(pool(origin.port)).done;
      assert.equal(r.body.toString(), 'until the end');
    } finally {
      await origin.close();
    }
  });

  test('a malformed response → an HPE_ code (classified upstream-error); data on an idle socket closes it', async () => {
    const origin = await rawOrigin((s, index) => onHeads(s, () => {
      if (index === 0) s.write('HTTX/1.1 200 OK\r\n\r\n');
      else {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno'), 30);
      }
    }));
    try {
      const p = pool(origin.port);
      const failure = await send(p).done.catch((e: unknown) => e);
      assert.match(String((failure as { code?: string }).code), /^HPE_/);
      assert.equal(classifyUpstreamError(failure).reason, 'upstream-error');
      assert.equal((await send(p).done).body.toString(), 'ok');
      await until('the idle socket that spoke out of turn to close', () => p.stats.connected === 0);
    } finally {
      await origin.close();
    }
  });

  test('abort mid-response: one onError with the reason, nothing after, the socket is not reused', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789');
      setTimeout(() => s.write('abcdefghij'), 50);
    }));
    try {
      const p = pool(origin.port);
      const reason = Object.assign(new Error('client went away'), { code: 'TEST_ABORT' });
      const c = send(p, {}, { onData: () => { c.abort!(reason); return false; } });
      const failure = await c.done.catch((e: unknown) => e);
      assert.equal(failure, reason);
      await sleep(100);
      assert.deepEqual(c.events, ['connect', 'headers 200', 'data', 'error TEST_ABORT']);
      c.abort!(new Error('again')); // a second abort is ignored
      await until('the origin to see the close', () => origin.sockets[0]!.destroyed || origin.sockets[0]!.readableEnded);
      assert.equal(p.stats.connected, 0);
      assert.equal(p.stats.running, 0);
    } finally {
      await origin.close();
    }
  });

  test('abort inside onConnect: nothing is written and the socket stays usable', async () => {
    const heads: string[] = [];
    const origin = await rawOrigin((s) => onHeads(s, (head) => {
      heads.push(head);
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }));
    try {
      const p = pool(origin.port);
      await send(p, { path: '/first' }).done;
      const aborted = send(p, { path: '/never' }, { onConnect: (abort) => abort() });
      assert.equal(await code(aborted.done), 'UND_ERR_ABORTED');
      await send(p, { path: '/third' }).done;
      assert.deepEqual(heads.map((h) => h.split(' ')[1]), ['/first', '/third']);
      assert.equal(origin.sockets.length, 1);
    } finally {
      await origin.close();
    }
  });

  test('a handler that throws: reported once to onError, the socket closed, the process unharmed', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')));
    try {
      const p = pool(origin.port);
      for (const where of ['onHeaders', 'onData', 'onComplete'] as const) {
        const boom = new Error(`boom in ${where}`);
        const c = send(p, {}, { [where]: () => { throw boom; } });
        assert.equal(await c.done.catch((e: unknown) => e), boom);
        assert.equal(c.events.filter((e) => e.startsWith('error')).length, 1);
      }
      const thrower = new Collector();
      thrower.onError = () => { throw new Error('onError throws too'); };
      p.dispatch({ path: 'no-slash', method: 'GET', headers: [], body: null }, thrower);
      assert.equal((await send(p).done).body.toString(), 'ok', 'the pool still works');
    } finally {
      await origin.close();
    }
  });

  test('invalid requests fail with UND_ERR_INVALID_ARG before anything is sent', async () => {
    const origin = await rawOrigin(() => undefined);
    try {
      const p = pool(origin.port);
      assert.equal(await code(send(p, { headers: ['x-a', 'one\r\nx-injected: 1'] }).done), 'UND_ERR_INVALID_ARG');
      assert.equal(await code(send(p, { headers: ['bad name', 'v'] }).done), 'UND_ERR_INVALID_ARG');
      assert.equal(await code(send(p, { path: '/a b' }).done), 'UND_ERR_INVALID_ARG');
      assert.equal(await code(send(p, { path: 'relative' }).done), 'UND_ERR_INVALID_ARG');
      assert.equal(await code(send(p, { headers: ['transfer-encoding', 'chunked'] }).done), 'UND_ERR_INVALID_ARG');
      assert.equal(await code(send(p, { method: 'G T' }).done), 'UND_ERR_INVALID_ARG');
      assert.equal(await code(send(p, { method: 'POST', headers: ['content-length', '5'], body: Buffer.from('abc') }).done),
        'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
      assert.equal(origin.sockets.length, 0);
      assert.throws(() => new Http1Pool('ftp://127.0.0.1:1', { connect: buildConnector({}) }), /http: or https:/);
      assert.throws(() => new Http1Pool('http://127.0.0.1:1/path', { connect: buildConnector({}) }), /scheme:\/\/host/);
      assert.throws(() => new Http1Pool('http://127.0.0.1:1', { connect: buildConnector({}), connections: 0 }), /connections/);
    } finally {
      await origin.close();
    }
  });

  test('a streamed body shorter than its Content-Length → UND_ERR_REQ_CONTENT_LENGTH_MISMATCH, socket closed', async () => {
    const origin = await rawOrigin((s) => s.resume());
    try {
      const p = pool(origin.port);
      const c = send(p, { method: 'POST', headers: ['host', 'h', 'content-length', '10'], body: Readable.from([Buffer.from('abc')]) });
      assert.equal(await code(c.done), 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
      assert.equal(p.stats.connected, 0);
      const longer = send(p, { method: 'POST', headers: ['host', 'h', 'content-length', '2'], body: Readable.from([Buffer.from('abc')]) });
      assert.equal(await code(longer.done), 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
    } finally {
      await origin.close();
    }
  });

  test('a request body that errors or is destroyed mid-stream fails the request and closes the socket', async () => {
    const origin = await rawOrigin((s) => s.resume());
    try {
      const p = pool(origin.port);
      const body = new Readable({ read() {} });
      body.push('some');
      const c = send(p, { method: 'POST', body });
      await sleep(30);
      body.destroy(Object.assign(new Error('client reset'), { code: 'TEST_BODY' }));
      assert.equal(await code(c.done), 'TEST_BODY');
      const closed = new Readable({ read() {} });
      const d = send(p, { method: 'POST', body: closed });
      await sleep(30);
      closed.destroy();
      assert.equal(await code(d.done), 'UND_ERR_ABORTED');
      assert.equal(p.stats.connected, 0);
    } finally {
      await origin.close();
    }
  });

  test('an early response while the body is still streaming: completes, the socket is not reused', async () => {
    const origin = await rawOrigin((s) => onHeads(s, () => {
      s.write('HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n');
    }));
    try {
      const p = pool(origin.port);
      const body = new Readable({ read() {} });
      body.push('the start of a long body');
      const r = await send(p, { method: 'POST', body }).done;
      assert.equal(r.status, 413);
      await until('the socket to close', () => p.stats.connected === 0);
      body.destroy();
    } finally {
      await origin.close();
    }
  });
});

// ---- back-pressure and memory -----------------------------------------------------------------------

describe('Http1Pool: back-pressure both ways', { timeout: 60_000 }, () => {
  test('100 MB response with a slow handler: reading pauses, at most one read arrives while paused', async () => {
    const TOTAL = 100 * 1024 * 1024;
    const CHUNK = Buffer.alloc(256 * 1024, 0x61);
    const origin = await httpOrigin((_req, res) => {
      res.writeHead(200, { 'content-length': String(TOTAL) });
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    try {
      const p = pool(origin.port);
      global.gc?.();
      const rss0 = process.memoryUsage().rss;
      let received = 0;
      let sincePause = -1;
      let maxWhilePaused = 0;
      let pauses = 0;
      let rssPeak = rss0;
      const c = new Collector();
      const done = new Promise<void>((resolve, reject) => {
        c.onData = (chunk: Buffer): boolean => {
          received += chunk.length;
          if (sincePause >= 0) {
            sincePause += chunk.length;
            maxWhilePaused = Math.max(maxWhilePaused, sincePause);
            return false;
          }
          // Every 4 MB: pause for 5 ms, as a client that does not drain would make the pipeline do.
          if (received % (4 * 1024 * 1024) < chunk.length) {
            pauses++;
            sincePause = 0;
            rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
            setTimeout(() => { sincePause = -1; c.resume!(); }, 5);
            return false;
          }
          return true;
        };
        c.onComplete = () => resolve();
        c.onError = reject;
      });
      p.dispatch({ path: '/big', method: 'GET', headers: ['host', 'h'], body: null }, c);
      await done;
      assert.equal(received, TOTAL);
      assert.ok(pauses >= 20, `paused ${pauses} times`);
      assert.ok(maxWhilePaused <= 256 * 1024, `${maxWhilePaused} bytes arrived while paused (one read at most)`);
      const growth = rssPeak - rss0;
      assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MB`);
    } finally {
      await origin.close();
    }
  });

  test('a streamed upload to a server that stops reading: the body is paused, not buffered', async () => {
    const TOTAL = 64 * 1024 * 1024;
    let serverSocket: Socket | null = null;
    let receivedByServer = 0;
    const origin = await rawOrigin((s) => {
      serverSocket = s;
      s.pause(); // reads nothing for now
      s.on('data', (d: Buffer) => {
        receivedByServer += d.length;
      });
    });
    try {
      const p = pool(origin.port, { headersTimeout: 0 });
      let produced = 0;
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      const body = new Readable({
        read() {
          if (produced >= TOTAL) {
            this.push(null);
            return;
          }
          produced += chunk.length;
          this.push(chunk);
        },
      });
      const c = send(p, { method: 'POST', headers: ['host', 'h', 'content-length', String(TOTAL)], body });
      c.done.catch(() => undefined);
      await sleep(300);
      assert.ok(produced < 32 * 1024 * 1024, `${(produced / 1048576).toFixed(1)} MB produced while the server read nothing`);
      const stuck = produced;
      serverSocket!.resume();
      await until('the server to read the whole body', () => receivedByServer >= TOTAL, 20_000);
      assert.ok(produced > stuck);
      serverSocket!.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      assert.equal((await c.done).status, 200);
    } finally {
      await origin.close();
    }
  });
});

// ---- TLS ----------------------------------------------------------------------------------------------

describe('Http1Pool over TLS', () => {
  let pki: TestPki;
  let port = 0;
  let selfSignedPort = 0;
  let servers: HttpServer[] = [];
  const ports: number[] = [];

  before(async () => {
    pki = createTestPki();
    const cert = pki.server('origin', ['origin.test'], ['127.0.0.1']);
    const self = pki.selfSigned('self', ['self.test']);
    const answer = (req: IncomingMessage, res: ServerResponse): void => {
      ports.push(req.socket.remotePort!);
      res.end(`tls ${req.url}`);
    };
    const a = await listen(createHttpsServer({ cert: cert.cert, key: cert.key }, answer));
    const b = await listen(createHttpsServer({ cert: self.cert, key: self.key }, answer));
    port = a.port;
    selfSignedPort = b.port;
    servers = [a, b];
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    pki.cleanup();
  });

  for (const consumeHandle of [true, false]) {
    test(`validated against the CA, with SNI, keep-alive reuse (${consumeHandle ? 'consume' : "'data' events"})`, async () => {
      const p = new Http1Pool(`https://127.0.0.1:${port}`, {
        connect: buildConnector({ ca: pki.ca.cert, servername: 'origin.test', rejectUnauthorized: true, timeout: 2000 }),
        consumeHandle,
      });
      pools.push(p);
      ports.length = 0;
      assert.equal((await send(p, { path: '/one' }).done).body.toString(), 'tls /one');
      assert.equal((await send(p, { path: '/two' }).done).body.toString(), 'tls /two');
      assert.equal(ports[0], ports[1], 'same TLS connection');
    });
  }

  test('a self-signed server: refused with validation, accepted without', async () => {
    const strict = new Http1Pool(`https://127.0.0.1:${selfSignedPort}`, {
      connect: buildConnector({ ca: pki.ca.cert, servername: 'self.test', rejectUnauthorized: true, timeout: 2000 }),
    });
    const lax = new Http1Pool(`https://127.0.0.1:${selfSignedPort}`, {
      connect: buildConnector({ servername: 'self.test', rejectUnauthorized: false, timeout: 2000 }),
    });
    pools.push(strict, lax);
    const failure = await send(strict).done.catch((e: unknown) => e);
    assert.equal(classifyUpstreamError(failure).reason, 'upstream-certificate-invalid');
    assert.equal((await send(lax, { path: '/lax' }).done).body.toString(), 'tls /lax');
  });
});
