/**
 * The upstream half of the data path: a keep-alive HTTP/1.1 client pool toward one origin, in place of
 * undici's Pool. It keeps the contract the pipeline was written against (`dispatch(opts, handler)` with
 * undici's legacy handler callbacks, undici's error codes, undici-style `connect` functions), and drops
 * what a proxy pays for and does not use: per-request validation objects, the wasm llhttp and its copies,
 * per-request timers, stream machinery between the socket and the parser. Responses are parsed by node's
 * own llhttp binding (`HTTPParser` from `_http_common`, the one node:http uses) reading straight from
 * the socket's native handle (`consume`), so a response's bytes reach JavaScript only as the head's
 * strings and the body's chunks. docs/RATIONALE.md ("Proxy hot path → Upstream client") has the numbers.
 *
 * One request per connection at a time (no pipelining). A connection goes back to the idle list (LIFO,
 * so the warmest sockets are reused and the others age out) only after a complete response that allows
 * keep-alive, to a request whose body was written in full.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { buildConnector } from 'undici';
import { HTTPParser, streamHandleOf, type LlhttpError, type LlhttpParser, type StreamHandle } from './llhttp.js';

// ---- node's llhttp binding ----------------------------------------------------------------------------

const { kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete, kOnExecute } = HTTPParser;

// ---- errors -------------------------------------------------------------------------------------------

/**
 * Every failure this client reports, with a stable `code`. The codes are undici's, because the pipeline
 * (failure-answers.ts) and the access log already speak them; response parse errors keep llhttp's
 * `HPE_*` code and connect errors keep the connector's (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT …).
 */
export class UpstreamClientError extends Error {
  constructor(message: string, readonly code: UpstreamClientErrorCode | `HPE_${string}`, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UpstreamClientError';
  }
}

export type UpstreamClientErrorCode =
  | 'UND_ERR_INVALID_ARG'
  | 'UND_ERR_HEADERS_TIMEOUT'
  | 'UND_ERR_BODY_TIMEOUT'
  | 'UND_ERR_SOCKET'
  | 'UND_ERR_ABORTED'
  | 'UND_ERR_CLOSED'
  | 'UND_ERR_DESTROYED'
  | 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH';

function invalidArgument(message: string): UpstreamClientError {
  return new UpstreamClientError(message, 'UND_ERR_INVALID_ARG');
}

// ---- public types -------------------------------------------------------------------------------------

export interface Http1PoolOptions {
  /**
   * Opens one connection: an undici connector (`buildConnector(...)`, `transparentConnector(...)`), which
   * owns TCP, TLS, SNI, certificate checks and the connect timeout. It must call back with a connected
   * net.Socket or TLSSocket.
   */
  readonly connect: buildConnector.connector;
  /** Most sockets open (or opening) at once; further requests wait, first in first out. Default 256. */
  readonly connections?: number;
  /** Idle time after which a kept-alive socket is closed, when the server names no timeout. Default 4000 ms. */
  readonly keepAliveTimeout?: number;
  /** Upper bound for the idle time a server's `Keep-Alive: timeout=N` may ask for. Default 600 000 ms. */
  readonly keepAliveMaxTimeout?: number;
  /** Subtracted from the server's `timeout=N`, so we close first. Default 2000 ms (undici's). */
  readonly keepAliveTimeoutThreshold?: number;
  /** From the end of the request to the response head; 0 = none. Default 300 000 ms (undici's). */
  readonly headersTimeout?: number;
  /** Between two chunks of the response body (not while the handler holds it paused); 0 = none. */
  readonly bodyTimeout?: number;
  /** Largest response head accepted; 0 = node's --max-http-header-size (16 KiB). */
  readonly maxHeaderSize?: number;
  /**
   * Parse from the socket's native handle (default) or, when false, from its 'data' events. The second is
   * also what happens by itself when a socket has no native stream handle.
   */
  readonly consumeHandle?: boolean;
}

/** One request. `headers` is the flat [name, value, …] list sent as given (names as written). */
export interface Http1RequestOptions {
  readonly path: string;
  readonly method: string;
  readonly headers?: readonly string[] | null;
  readonly body?: Buffer | Uint8Array | string | Readable | null;
  /** Passed to the connector for a connection this request causes to be opened. */
  readonly servername?: string;
}

/**
 * What the pool calls, in undici's legacy handler shape. `rawHeaders` are latin1 strings (one char per
 * byte, as node:http gives them), not Buffers. After onComplete or onError nothing more is called.
 */
export interface Http1Handler {
  /** Called once, when the request is about to be written on a connection. `abort` may be called any time. */
  onConnect?(abort: (err?: Error) => void): void;
  /** Also for 1xx interim responses (statusCode < 200). Returning false pauses reading until `resume()`. */
  onHeaders?(statusCode: number, rawHeaders: string[], resume: () => void, statusText: string): boolean;
  /** Returning false pauses reading until `resume()` (what was already read still arrives, at most one read). */
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: string[] | null): void;
  onError?(err: Error): void;
}

export interface Http1PoolStats {
  /** Sockets open (connected). */
  readonly connected: number;
  /** Sockets open and idle. */
  readonly free: number;
  /** Sockets being opened. */
  readonly connecting: number;
  /** Requests on a socket: being written or waiting for / receiving their response. */
  readonly running: number;
  /** Requests waiting for a socket. */
  readonly pending: number;
  /** The same as `pending` (undici's Pool reports both). */
  readonly queued: number;
  /** running + pending. */
  readonly size: number;
}

// ---- requests -----------------------------------------------------------------------------------------

const enum BodyKind {
  None,
  Buffer,
  Stream,
}

/** Methods that may be replayed once on a fresh socket when a reused one dies before answering. */
const REPLAYABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Methods whose request carries a body by definition: an empty one is announced with Content-Length: 0. */
const PAYLOAD_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'QUERY']);

class UpstreamRequest {
  conn: Connection | null = null;
  /** Completed, failed or aborted: the handler hears nothing more. */
  done = false;
  /** onConnect was called (once per request, even when it is replayed on another socket). */
  connected = false;
  /** Bytes were handed to a socket. */
  written = false;
  /** A response head (final or 1xx) reached the handler: never replayed after that. */
  responded = false;
  replayed = false;

  /** Given to the handler in onConnect; aborts this request only, wherever it is. */
  readonly abort = (err?: Error): void => {
    this.pool.abortRequest(this, err ?? new UpstreamClientError('request aborted', 'UND_ERR_ABORTED'));
  };

  /** Given to the handler in onHeaders; resumes reading for this request only. */
  readonly resume = (): void => {
    if (!this.done && this.conn !== null && this.conn.request === this) this.conn.resumeReading();
  };

  constructor(
    readonly pool: Http1Pool,
    readonly handler: Http1Handler,
    readonly method: string,
    /** The whole request head, ending with the empty line. */
    readonly head: string,
    readonly bodyKind: BodyKind,
    readonly body: Buffer | Uint8Array | Readable | null,
    /** Content-Length of a streamed body, or -1 for chunked. */
    readonly declaredLength: number,
    readonly servername: string | undefined,
  ) {}

  get replayable(): boolean {
    return this.bodyKind === BodyKind.None && !this.replayed && !this.responded && REPLAYABLE_METHODS.has(this.method);
  }
}

/** The handler's own failure must not take the process down: one report, and its failure is swallowed. */
function reportError(handler: Http1Handler, err: Error): void {
  try {
    handler.onError?.(err);
  } catch {
    // The handler threw while being told about a failure: there is nobody left to tell.
  }
}

function ignoreError(): void {
  // Left on a request body after we stop reading it, so a late error there is not an uncaught exception.
}

function closeParser(parser: LlhttpParser): void {
  parser.close();
}

// ---- head construction (per request: no regex, one string) --------------------------------------------

/** RFC 9110 token characters, for header names. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** `name` equals the lower-case ASCII `lower`, ignoring ASCII case (callers check the length first). */
function nameIs(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function parseContentLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Seconds of `Keep-Alive: timeout=N, max=M` in ms, or -1. */
function keepAliveTimeoutMs(value: string): number {
  const at = value.toLowerCase().indexOf('timeout=');
  if (at < 0) return -1;
  let n = 0;
  let digits = 0;
  for (let i = at + 8; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    digits++;
  }
  return digits === 0 ? -1 : n * 1000;
}

// ---- connections --------------------------------------------------------------------------------------

class Connection {
  socket: Socket | null = null;
  private parser: LlhttpParser | null = null;
  /** The native handle the parser reads from, or null when it parses 'data' events. */
  private handle: StreamHandle | null = null;
  request: UpstreamRequest | null = null;
  /** Destroyed (or failed to connect): never used again. */
  closed = false;
  idle = false;
  /** Responses completed on this socket. */
  private served = 0;
  /** Pool tick of the last progress (request written, body chunk, response chunk, becoming idle). */
  mark = 0;
  /** Ticks of idleness after which the socket is closed (from the pool default or the server's Keep-Alive). */
  private keepAliveTicks: number;
  private lastError: Error | null = null;

  // Response state of the current request.
  private headersDone = false;
  private keepAlive = false;
  private paused = false;
  private releaseAfterRead = false;
  /** Header lines node's parser handed over early (more than 32 of them), or trailers. */
  private flushedHeaders: string[] | null = null;

  // Request body being streamed.
  private body: Readable | null = null;
  private bodyChunked = false;
  private bodyLeft = 0;

  constructor(private readonly pool: Http1Pool) {
    this.keepAliveTicks = pool.keepAliveDefaultTicks;
  }

  /** Takes a connected socket from the connector. */
  attach(socket: Socket): void {
    this.socket = socket;
    // Heads and small bodies go out in one write each; Nagle would hold the next one for an ACK.
    socket.setNoDelay(true);
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, this.pool.maxHeaderSize, 0);
    parser[kOnHeaders] = this.onParserHeaders;
    parser[kOnHeadersComplete] = this.onHeadersComplete;
    parser[kOnBody] = this.onBody;
    parser[kOnMessageComplete] = this.onMessageComplete;
    parser[kOnExecute] = this.onExecute;
    this.parser = parser;
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.on('end', this.onSocketEnd);
    socket.on('drain', this.onSocketDrain);
    // Also in consume mode: it puts the socket in flowing mode (so 'end' is emitted) and executes anything
    // read before the parser took over the handle.
    socket.on('data', this.onSocketData);
    const handle = this.pool.consumeHandle ? streamHandleOf(socket) : null;
    if (handle !== null) {
      parser.consume(handle);
      this.handle = handle;
    }
  }

  /** The socket can carry a new request. */
  usable(): boolean {
    const s = this.socket;
    return !this.closed && s !== null && !s.destroyed && s.writable && !s.readableEnded;
  }

  // ---- writing ----

  start(request: UpstreamRequest): void {
    const pool = this.pool;
    this.idle = false;
    this.request = request;
    request.conn = this;
    this.headersDone = false;
    this.keepAlive = false;
    this.flushedHeaders = null;
    this.mark = pool.tick;
    pool.running++;
    if (!request.connected) {
      request.connected = true;
      try {
        request.handler.onConnect?.(request.abort);
      } catch (err) {
        if (!request.done) {
          request.done = true;
          reportError(request.handler, err as Error);
        }
      }
      if (request.done || this.closed) {
        // Aborted before anything was written: the socket is as good as before (unless the handler
        // destroyed the pool meanwhile).
        this.handBack(request, null);
        return;
      }
    }
    const body = request.body;
    if (request.bodyKind === BodyKind.Stream && ((body as Readable).destroyed || (body as Readable).readableEnded)) {
      this.handBack(request, new UpstreamClientError('the request body stream was already consumed or destroyed', 'UND_ERR_ABORTED'));
      return;
    }
    const socket = this.socket!;
    request.written = true;
    switch (request.bodyKind) {
      case BodyKind.None:
        socket.write(request.head, 'latin1');
        break;
      case BodyKind.Buffer:
        // Head and body leave in one writev.
        socket.cork();
        socket.write(request.head, 'latin1');
        socket.write(body as Buffer);
        socket.uncork();
        break;
      case BodyKind.Stream:
        this.streamBody(request, body as Readable);
        break;
    }
  }

  /** Undoes start() for a request that never wrote a byte; the socket goes back to the pool. */
  private handBack(request: UpstreamRequest, err: Error | null): void {
    if (this.request === request) {
      this.request = null;
      request.conn = null;
      this.pool.running--;
    }
    if (!request.done) {
      request.done = true;
      reportError(request.handler, err ?? new UpstreamClientError('the connection closed before the request was sent', 'UND_ERR_SOCKET'));
    }
    if (!this.closed) this.pool.release(this);
  }

  private streamBody(request: UpstreamRequest, body: Readable): void {
    this.body = body;
    this.bodyChunked = request.declaredLength < 0;
    this.bodyLeft = request.declaredLength;
    this.socket!.write(request.head, 'latin1');
    body.on('data', this.onBodyData);
    body.on('end', this.onBodyEnd);
    body.on('error', this.onBodyError);
    body.on('close', this.onBodyClose);
    if (body.isPaused()) body.resume();
  }

  private readonly onBodyData = (chunk: Buffer | string): void => {
    const body = this.body;
    if (body === null) return;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (data.length === 0) return;
    const socket = this.socket!;
    this.mark = this.pool.tick;
    let ok: boolean;
    if (this.bodyChunked) {
      socket.cork();
      socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
      socket.write(data);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      this.bodyLeft -= data.length;
      if (this.bodyLeft < 0) {
        this.fail(new UpstreamClientError('request body longer than its Content-Length', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'));
        return;
      }
      ok = socket.write(data);
    }
    if (!ok) body.pause();
  };

  private readonly onBodyEnd = (): void => {
    if (this.body === null) return;
    if (!this.bodyChunked && this.bodyLeft !== 0) {
      this.fail(new UpstreamClientError('request body shorter than its Content-Length', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'));
      return;
    }
    if (this.bodyChunked) this.socket!.write('0\r\n\r\n', 'latin1');
    this.detachBody();
    // The wait for the response head starts now.
    this.mark = this.pool.tick;
  };

  private readonly onBodyError = (err: Error): void => {
    if (this.body === null) return;
    this.fail(err);
  };

  private readonly onBodyClose = (): void => {
    if (this.body === null) return;
    this.fail(new UpstreamClientError('the request body stream closed before its end', 'UND_ERR_ABORTED'));
  };

  private readonly onSocketDrain = (): void => {
    const body = this.body;
    if (body === null) return;
    this.mark = this.pool.tick;
    body.resume();
  };

  private detachBody(): void {
    const body = this.body;
    if (body === null) return;
    this.body = null;
    body.removeListener('data', this.onBodyData);
    body.removeListener('end', this.onBodyEnd);
    body.removeListener('close', this.onBodyClose);
    body.removeListener('error', this.onBodyError);
    body.on('error', ignoreError);
  }

  // ---- reading ----

  pauseReading(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    const handle = this.handle;
    if (handle !== null) {
      handle.reading = false;
      handle.readStop();
    } else {
      this.socket!.pause();
    }
  }

  resumeReading(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.mark = this.pool.tick;
    const handle = this.handle;
    if (handle !== null) {
      handle.reading = true;
      handle.readStart();
    } else {
      this.socket!.resume();
    }
  }

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.closed) return;
    this.onExecute(this.parser!.execute(chunk));
  };

  private readonly onParserHeaders = (headers: string[]): void => {
    this.flushedHeaders = this.flushedHeaders === null ? headers : this.flushedHeaders.concat(headers);
  };

  private readonly onHeadersComplete = (_versionMajor: number, _versionMinor: number, headers: string[] | undefined,
    _method: unknown, _url: unknown, statusCode: number, statusMessage: string, upgrade: boolean,
    shouldKeepAlive: boolean): number => {
    if (this.closed) return -1;
    const request = this.request;
    if (request === null) {
      this.destroyWith(new UpstreamClientError('the server sent a response with no request outstanding', 'UND_ERR_SOCKET'));
      return -1;
    }
    let rawHeaders = headers;
    if (rawHeaders === undefined) {
      rawHeaders = this.flushedHeaders ?? [];
      this.flushedHeaders = null;
    }
    if (upgrade || statusCode === 101) {
      this.fail(new UpstreamClientError('the server switched protocols without being asked', 'UND_ERR_SOCKET'));
      return -1;
    }
    this.mark = this.pool.tick;
    request.responded = true;
    if (statusCode >= 200) {
      this.headersDone = true;
      this.keepAlive = shouldKeepAlive;
      if (shouldKeepAlive) this.keepAliveTicks = this.keepAliveTicksFrom(rawHeaders);
    }
    let goOn: boolean;
    try {
      goOn = (request.handler as Http1Handler).onHeaders?.(statusCode, rawHeaders, request.resume, statusMessage) !== false;
    } catch (err) {
      this.failFromHandler(err as Error);
      return -1;
    }
    if (this.closed || request.done) return -1;
    if (!goOn) this.pauseReading();
    // 1 = no body: a 1xx is followed by the real response; a HEAD response's length describes a GET's body.
    return statusCode < 200 || request.method === 'HEAD' ? 1 : 0;
  };

  private keepAliveTicksFrom(rawHeaders: readonly string[]): number {
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length === 10 && nameIs(name, 'keep-alive')) {
        const ms = keepAliveTimeoutMs(rawHeaders[i + 1]!);
        if (ms >= 0) return this.pool.keepAliveTicksFor(ms);
      }
    }
    return this.pool.keepAliveDefaultTicks;
  }

  private readonly onBody = (chunk: Buffer): void => {
    if (this.closed) return;
    const request = this.request;
    if (request === null || request.done) return;
    this.mark = this.pool.tick;
    let goOn: boolean;
    try {
      goOn = request.handler.onData?.(chunk) !== false;
    } catch (err) {
      this.failFromHandler(err as Error);
      return;
    }
    if (!goOn) this.pauseReading();
  };

  private readonly onMessageComplete = (): void => {
    if (this.closed) return;
    const request = this.request;
    if (request === null || request.done) return;
    const trailers = this.flushedHeaders;
    this.flushedHeaders = null;
    if (!this.headersDone) return; // the end of a 1xx: the final response follows on the same parser
    const pool = this.pool;
    // undici's rule too: after HEAD the socket is not reused, in case the server sends a body anyway.
    // A request still (partly) in our write buffer was answered early: its rest would reach the server as
    // the start of the next request.
    const reusable = this.keepAlive && this.body === null && request.method !== 'HEAD' && this.keepAliveTicks >= 0 &&
      this.socket!.writableLength === 0;
    this.detachBody();
    this.request = null;
    request.conn = null;
    request.done = true;
    pool.running--;
    this.served++;
    try {
      request.handler.onComplete?.(trailers);
    } catch (err) {
      this.destroyWith(null);
      reportError(request.handler, err as Error);
      return;
    }
    if (this.closed) return;
    // Released when the parser has finished the current read: bytes after the response in the same read
    // would then be a response to nobody (and close the socket) instead of answering the next request.
    if (reusable) this.releaseAfterRead = true;
    else this.destroyWith(null);
  };

  private readonly onExecute = (result: number | LlhttpError): void => {
    if (this.closed) return;
    if (typeof result !== 'number') {
      this.fail(new UpstreamClientError(`invalid response from the server: ${result.reason ?? result.message}`,
        (result.code?.startsWith('HPE_') ? result.code : 'HPE_INTERNAL') as `HPE_${string}`, { cause: result }));
      return;
    }
    if (this.releaseAfterRead) {
      this.releaseAfterRead = false;
      if (this.paused) this.resumeReading();
      this.pool.release(this);
    }
  };

  private readonly onSocketEnd = (): void => {
    if (this.closed) return;
    if (this.request !== null && !this.request.done) {
      // A body delimited by the end of the connection completes here; anything else was cut short.
      const result = this.parser!.finish();
      if (this.request !== null && !this.closed) {
        this.fail(new UpstreamClientError('other side closed', 'UND_ERR_SOCKET', result === undefined ? undefined : { cause: result }));
        return;
      }
    }
    this.destroyWith(null);
  };

  private readonly onSocketError = (err: Error): void => {
    this.lastError = err;
    if (!this.closed) this.fail(new UpstreamClientError(`socket error: ${err.message}`, 'UND_ERR_SOCKET', { cause: err }));
  };

  private readonly onSocketClose = (): void => {
    if (!this.closed) {
      const cause = this.lastError;
      this.fail(new UpstreamClientError(cause === null ? 'other side closed' : `socket error: ${cause.message}`,
        'UND_ERR_SOCKET', cause === null ? undefined : { cause }));
    }
    const parser = this.parser;
    if (parser !== null) {
      this.parser = null;
      if (this.handle !== null) {
        this.handle = null;
        parser.unconsume();
      }
      // Deleting the native parser while its callbacks may still be on the stack is not safe.
      setImmediate(closeParser, parser);
    }
    this.pool.socketClosed();
  };

  // ---- timers (called by the pool's sweep) ----

  checkTimers(tick: number): void {
    if (this.closed || this.socket === null) return;
    const elapsed = tick - this.mark;
    const pool = this.pool;
    if (this.request === null) {
      if (this.idle && elapsed > this.keepAliveTicks) this.destroyWith(null);
      return;
    }
    if (!this.headersDone) {
      // While a body is still going out, the client side sets the pace: only a server that stopped
      // reading it (our writes stuck) counts as not answering.
      if (pool.headersTicks > 0 && elapsed > pool.headersTicks && (this.body === null || this.socket.writableNeedDrain)) {
        this.fail(new UpstreamClientError('timed out waiting for the response head', 'UND_ERR_HEADERS_TIMEOUT'));
      }
    } else if (pool.bodyTicks > 0 && !this.paused && elapsed > pool.bodyTicks) {
      this.fail(new UpstreamClientError('timed out waiting for the response body', 'UND_ERR_BODY_TIMEOUT'));
    }
  }

  // ---- ending ----

  /**
   * The request on this socket (if any) fails with `err`, and the socket is closed. A replayable request
   * (GET/HEAD/OPTIONS without body, no answer yet) that died with a reused socket goes back to the front of
   * the queue once instead: the server closed a keep-alive connection as we sent on it.
   */
  fail(err: Error): void {
    const request = this.request;
    this.destroyWith(null);
    if (request === null || request.done) return;
    if ((err as { code?: unknown }).code === 'UND_ERR_SOCKET' && this.served > 0 && request.replayable) {
      request.replayed = true;
      request.written = false;
      this.pool.requeue(request);
      return;
    }
    request.done = true;
    reportError(request.handler, err);
  }

  private failFromHandler(err: Error): void {
    const request = this.request;
    this.destroyWith(null);
    if (request === null || request.done) return;
    request.done = true;
    reportError(request.handler, err);
  }

  /** Closes the socket; the request on it (if any) is detached without being told (callers tell it). */
  destroyWith(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.detachBody();
    const request = this.request;
    if (request !== null) {
      this.request = null;
      request.conn = null;
      this.pool.running--;
    }
    this.pool.forget(this);
    this.socket?.destroy();
    if (err !== null && request !== null && !request.done) {
      request.done = true;
      reportError(request.handler, err);
    }
  }
}

// ---- the pool -----------------------------------------------------------------------------------------

const enum PoolState {
  Open,
  Closing,
  Destroyed,
}

/** A FIFO of waiting requests (array with a moving head: no O(n) shift). */
class RequestQueue {
  private items: (UpstreamRequest | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(r: UpstreamRequest): void {
    this.items.push(r);
  }

  unshift(r: UpstreamRequest): void {
    if (this.head > 0) this.items[--this.head] = r;
    else this.items.unshift(r);
  }

  peek(): UpstreamRequest | undefined {
    return this.items[this.head];
  }

  shift(): UpstreamRequest | undefined {
    if (this.head >= this.items.length) return undefined;
    const r = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return r;
  }

  remove(r: UpstreamRequest): boolean {
    const at = this.items.indexOf(r, this.head);
    if (at < 0) return false;
    this.items.splice(at, 1);
    return true;
  }

  drain(): UpstreamRequest[] {
    const all = this.items.slice(this.head) as UpstreamRequest[];
    this.items = [];
    this.head = 0;
    return all;
  }
}

function positiveInteger(value: number | undefined, fallback: number, name: string, allowZero: boolean): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidArgument(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer (got ${String(value)})`);
  }
  return value;
}

/**
 * Keep-alive HTTP/1.1 connections to one origin (`http://host:port` or `https://host:port`). Timeouts are
 * enforced by one coarse sweep per pool (only while it has sockets) that compares tick counts: a request
 * costs no timer and no clock read, and a timeout fires between its value and one sweep interval later.
 */
export class Http1Pool {
  private readonly connector: buildConnector.connector;
  private readonly connectOptions: buildConnector.Options;
  private readonly hostHeader: string;
  private readonly maxConnections: number;
  private readonly keepAliveTimeout: number;
  private readonly keepAliveMaxTimeout: number;
  private readonly keepAliveThreshold: number;
  /** @internal (for Connection, as are the members below marked so) */
  readonly maxHeaderSize: number;
  /** @internal */
  readonly consumeHandle: boolean;

  /** Sweep period and the timeouts in sweeps. */
  private readonly sweepMs: number;
  /** @internal */
  readonly headersTicks: number;
  /** @internal */
  readonly bodyTicks: number;
  /** @internal */
  readonly keepAliveDefaultTicks: number;
  /** @internal Sweeps so far: the clock connections mark their progress with. */
  tick = 0;
  private sweeper: NodeJS.Timeout | null = null;

  private readonly conns = new Set<Connection>();
  private readonly idle: Connection[] = [];
  private readonly queue = new RequestQueue();
  private connecting = 0;
  /** Sockets not yet closed, including destroyed ones whose 'close' is still to come. */
  private liveSockets = 0;
  /** @internal Requests on a socket (stats.running). */
  running = 0;
  private state = PoolState.Open;
  private readonly settledWaiters: (() => void)[] = [];

  constructor(origin: string | URL, options: Http1PoolOptions) {
    const url = typeof origin === 'string' ? new URL(origin) : origin;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalidArgument(`origin must be http: or https: (got ${url.protocol})`);
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '') {
      throw invalidArgument(`origin must be scheme://host[:port] only (got ${url.href})`);
    }
    if (typeof options.connect !== 'function') throw invalidArgument('connect must be a connector function');
    this.connector = options.connect;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.connectOptions = { host: url.host, hostname, protocol: url.protocol, port: url.port, localAddress: null };
    // As undici: the origin's host (and port unless the scheme's default), when the request names none.
    this.hostHeader = `host: ${url.host}\r\n`;
    this.maxConnections = positiveInteger(options.connections, 256, 'connections', false);
    this.keepAliveTimeout = positiveInteger(options.keepAliveTimeout, 4_000, 'keepAliveTimeout', false);
    this.keepAliveMaxTimeout = positiveInteger(options.keepAliveMaxTimeout, 600_000, 'keepAliveMaxTimeout', false);
    this.keepAliveThreshold = positiveInteger(options.keepAliveTimeoutThreshold, 2_000, 'keepAliveTimeoutThreshold', true);
    const headersTimeout = positiveInteger(options.headersTimeout, 300_000, 'headersTimeout', true);
    const bodyTimeout = positiveInteger(options.bodyTimeout, 300_000, 'bodyTimeout', true);
    this.maxHeaderSize = positiveInteger(options.maxHeaderSize, 0, 'maxHeaderSize', true);
    this.consumeHandle = options.consumeHandle ?? true;

    // A quarter of the shortest timeout, between 10 ms and 1 s: a timeout fires at most 25 % late (or one
    // second for long ones), and a pool with default settings wakes once a second while it has sockets.
    let shortest = this.keepAliveTimeout;
    if (headersTimeout > 0) shortest = Math.min(shortest, headersTimeout);
    if (bodyTimeout > 0) shortest = Math.min(shortest, bodyTimeout);
    this.sweepMs = Math.max(10, Math.min(1_000, Math.floor(shortest / 4)));
    this.headersTicks = headersTimeout === 0 ? 0 : Math.ceil(headersTimeout / this.sweepMs);
    this.bodyTicks = bodyTimeout === 0 ? 0 : Math.ceil(bodyTimeout / this.sweepMs);
    this.keepAliveDefaultTicks = this.keepAliveTicksFor(this.keepAliveTimeout + this.keepAliveThreshold);
  }

  /**
   * @internal
   * Sweeps of idleness allowed for a server keep-alive timeout of `serverMs` (less the threshold, at most
   * keepAliveMaxTimeout), rounded so the socket is closed no later than that; -1 = do not keep it.
   */
  keepAliveTicksFor(serverMs: number): number {
    const ms = Math.min(serverMs - this.keepAliveThreshold, this.keepAliveMaxTimeout);
    if (ms <= 0) return -1;
    return Math.floor(ms / this.sweepMs) - 1;
  }

  get stats(): Http1PoolStats {
    const queued = this.queue.length;
    return {
      connected: this.conns.size - this.connecting,
      free: this.idle.length,
      connecting: this.connecting,
      running: this.running,
      pending: queued,
      queued,
      size: this.running + queued,
    };
  }

  get closed(): boolean {
    return this.state !== PoolState.Open;
  }

  get destroyed(): boolean {
    return this.state === PoolState.Destroyed;
  }

  /**
   * Sends one request. Failures, including bad options and a closed pool, are reported to
   * `handler.onError` (synchronously for those two, as undici does). Returns false when the request could
   * not be accepted or has to wait for a socket.
   */
  dispatch(opts: Http1RequestOptions, handler: Http1Handler): boolean {
    let request: UpstreamRequest;
    try {
      if (this.state !== PoolState.Open) {
        throw this.state === PoolState.Closing
          ? new UpstreamClientError('the upstream pool is closed', 'UND_ERR_CLOSED')
          : new UpstreamClientError('the upstream pool was destroyed', 'UND_ERR_DESTROYED');
      }
      request = this.prepare(opts, handler);
    } catch (err) {
      reportError(handler, err as Error);
      return false;
    }
    let conn = this.idle.pop();
    while (conn !== undefined && !conn.usable()) {
      conn.destroyWith(null);
      conn = this.idle.pop();
    }
    if (conn !== undefined) {
      conn.start(request);
      return true;
    }
    this.queue.push(request);
    this.pump();
    return false;
  }

  /** Validates the options and builds the request head. */
  private prepare(opts: Http1RequestOptions, handler: Http1Handler): UpstreamRequest {
    const { method, path } = opts;
    if (typeof method !== 'string' || !isToken(method)) throw invalidArgument('invalid method');
    if (typeof path !== 'string' || path.length === 0 ||
      (path.charCodeAt(0) !== 47 /* / */ && !(path === '*' && method === 'OPTIONS') &&
        !path.startsWith('http://') && !path.startsWith('https://'))) {
      throw invalidArgument('path must start with a slash, or be an absolute URL');
    }
    if (path.indexOf(' ') >= 0 || path.indexOf('\r') >= 0 || path.indexOf('\n') >= 0 || path.indexOf('\t') >= 0) {
      throw invalidArgument('invalid characters in path');
    }
    let head = `${method} ${path} HTTP/1.1\r\n`;
    let hasHost = false;
    let declared = -1;
    const headers = opts.headers;
    if (headers !== undefined && headers !== null) {
      if (!Array.isArray(headers) || (headers.length & 1) !== 0) throw invalidArgument('headers must be a flat [name, value, …] list');
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i] as unknown;
        const value = headers[i + 1] as unknown;
        if (typeof name !== 'string' || typeof value !== 'string') throw invalidArgument('header names and values must be strings');
        if (!isToken(name)) throw invalidArgument(`invalid header name ${JSON.stringify(name)}`);
        // CR/LF would end the line: a header (or a whole request) of the caller's choosing.
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
          throw invalidArgument(`invalid value for header ${name}`);
        }
        switch (name.length) {
          case 4:
            if (nameIs(name, 'host')) hasHost = true;
            break;
          case 14:
            if (nameIs(name, 'content-length')) {
              const n = parseContentLength(value);
              if (n < 0 || (declared >= 0 && declared !== n)) throw invalidArgument('invalid content-length header');
              if (declared >= 0) continue; // a repeated, equal value is sent once
              declared = n;
            }
            break;
          case 10:
            // The pool owns the connection: one request per socket, kept alive unless the server says no.
            if (nameIs(name, 'connection') || nameIs(name, 'keep-alive')) throw invalidArgument(`${name} header is set by the pool`);
            break;
          case 17:
            if (nameIs(name, 'transfer-encoding')) throw invalidArgument('transfer-encoding is set by the pool from the body');
            break;
          case 7:
            if (nameIs(name, 'upgrade')) throw invalidArgument('upgrade is not supported by the pool');
            break;
          case 6:
            if (nameIs(name, 'expect')) throw invalidArgument('expect is not supported by the pool');
            break;
        }
        head += `${name}: ${value}\r\n`;
      }
    }
    if (!hasHost) head += this.hostHeader;
    head += method === 'HEAD' ? 'connection: close\r\n' : 'connection: keep-alive\r\n';

    let body: Buffer | Uint8Array | Readable | null;
    let kind: BodyKind;
    const given = opts.body;
    if (given === undefined || given === null) {
      body = null;
      kind = BodyKind.None;
      if (declared > 0) throw new UpstreamClientError('content-length given without a body', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
      if (declared < 0 && PAYLOAD_METHODS.has(method)) head += 'content-length: 0\r\n';
    } else if (typeof given === 'string' || given instanceof Uint8Array) {
      body = typeof given === 'string' ? Buffer.from(given, 'utf8') : given;
      if (declared >= 0 && declared !== body.length) {
        throw new UpstreamClientError('request body length differs from its Content-Length', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
      }
      if (body.length === 0) {
        kind = BodyKind.None;
        body = null;
        if (declared < 0 && PAYLOAD_METHODS.has(method)) head += 'content-length: 0\r\n';
      } else {
        kind = BodyKind.Buffer;
        if (declared < 0) head += `content-length: ${body.length}\r\n`;
      }
    } else if (typeof (given as Readable).on === 'function' && typeof (given as Readable).pause === 'function') {
      body = given as Readable;
      kind = BodyKind.Stream;
      if (declared < 0) head += 'transfer-encoding: chunked\r\n';
    } else {
      throw invalidArgument('body must be a Buffer, a Uint8Array, a string, a Readable or null');
    }
    head += '\r\n';
    return new UpstreamRequest(this, handler, method, head, kind, body, declared, opts.servername);
  }

  /** Starts queued requests on idle sockets, and opens sockets for those no connect is under way for. */
  private pump(): void {
    while (this.queue.length > 0) {
      const conn = this.idle.pop();
      if (conn === undefined) break;
      if (!conn.usable()) {
        conn.destroyWith(null);
        continue;
      }
      conn.start(this.queue.shift()!);
    }
    while (this.state !== PoolState.Destroyed && this.queue.length > this.connecting && this.conns.size < this.maxConnections) {
      this.open(this.queue.peek()?.servername);
    }
  }

  private open(servername: string | undefined): void {
    const conn = new Connection(this);
    this.conns.add(conn);
    this.connecting++;
    this.liveSockets++;
    this.startSweeper();
    let answered = false;
    const options = servername === undefined ? this.connectOptions : { ...this.connectOptions, servername };
    try {
      this.connector(options, (err: Error | null, socket: Socket | null) => {
        if (answered) return;
        answered = true;
        this.connected(conn, err, socket);
      });
    } catch (err) {
      if (!answered) {
        answered = true;
        this.connected(conn, err as Error, null);
      }
    }
  }

  private connected(conn: Connection, err: Error | null, socket: Socket | null): void {
    this.connecting--;
    if (err === null && socket !== null && socket.destroyed) {
      // Closed before we could listen to it: its 'close' may already be behind us, so it is not counted.
      err = new UpstreamClientError('the connection closed as it was opened', 'UND_ERR_SOCKET');
    }
    if (err !== null || socket === null) {
      conn.closed = true;
      this.conns.delete(conn);
      this.liveSockets--;
      // Fails the oldest waiting request, unless other connects under way can serve every waiting one.
      if (this.queue.length > this.connecting) {
        const request = this.queue.shift()!;
        request.done = true;
        const cause = err ?? new UpstreamClientError('the connector returned no socket', 'UND_ERR_SOCKET');
        // A replayed request was written once and lost with its socket: that is what its caller hears (it
        // may retry elsewhere on a socket error), not the connect failure of the second try.
        reportError(request.handler, request.replayed
          ? new UpstreamClientError(`other side closed, and reconnecting failed: ${cause.message}`, 'UND_ERR_SOCKET', { cause })
          : cause);
      }
      this.pump();
      this.settle();
      return;
    }
    if (conn.closed || this.state === PoolState.Destroyed) {
      // destroy() ran while this socket was being opened.
      conn.closed = true;
      this.conns.delete(conn);
      socket.destroy();
      this.liveSockets--;
      this.settle();
      return;
    }
    conn.attach(socket);
    this.release(conn);
  }

  /** @internal A socket is free: the next waiting request gets it, else it waits in the idle list. */
  release(conn: Connection): void {
    if (!conn.usable()) {
      conn.destroyWith(null);
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) {
      conn.start(next);
      return;
    }
    if (this.state !== PoolState.Open) {
      conn.destroyWith(null);
      return;
    }
    conn.idle = true;
    conn.mark = this.tick;
    this.idle.push(conn);
  }

  /** @internal A replayable request whose reused socket died before any answer: first in line for the next socket. */
  requeue(request: UpstreamRequest): void {
    if (this.state === PoolState.Destroyed) {
      request.done = true;
      reportError(request.handler, new UpstreamClientError('the upstream pool was destroyed', 'UND_ERR_DESTROYED'));
      return;
    }
    this.queue.unshift(request);
    this.pump();
  }

  /** @internal Bookkeeping when a connection is destroyed (its 'close' event comes later). */
  forget(conn: Connection): void {
    this.conns.delete(conn);
    if (conn.idle) {
      conn.idle = false;
      const at = this.idle.lastIndexOf(conn);
      if (at >= 0) this.idle.splice(at, 1);
    }
    if (this.queue.length > 0) this.pump();
  }

  /** @internal */
  socketClosed(): void {
    this.liveSockets--;
    this.settle();
  }

  /** @internal The `abort` a handler got in onConnect. */
  abortRequest(request: UpstreamRequest, err: Error): void {
    if (request.done) return;
    const conn = request.conn;
    if (conn === null) {
      this.queue.remove(request);
    } else if (request.written) {
      // Bytes are on the wire (or a response is half read): the socket cannot be trusted for another request.
      conn.destroyWith(null);
    }
    // (On a socket but not yet written: we are inside onConnect, and start() hands the socket back.)
    request.done = true;
    reportError(request.handler, err);
  }

  private startSweeper(): void {
    if (this.sweeper !== null) return;
    this.sweeper = setInterval(this.sweep, this.sweepMs);
    this.sweeper.unref();
  }

  private readonly sweep = (): void => {
    const tick = ++this.tick;
    for (const conn of this.conns) conn.checkTimers(tick);
    if (this.conns.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  };

  /**
   * Graceful: new requests are refused (UND_ERR_CLOSED); running and waiting ones finish; idle sockets
   * close now, the others after their response. Resolves when every socket is closed.
   */
  close(): Promise<void> {
    if (this.state === PoolState.Open) this.state = PoolState.Closing;
    for (const conn of this.idle.slice()) conn.destroyWith(null);
    return this.whenSettled();
  }

  /** Forceful: every running and waiting request fails with `err` (default UND_ERR_DESTROYED), sockets close. */
  destroy(err?: Error): Promise<void> {
    const reason = err ?? new UpstreamClientError('the upstream pool was destroyed', 'UND_ERR_DESTROYED');
    this.state = PoolState.Destroyed;
    for (const request of this.queue.drain()) {
      request.done = true;
      reportError(request.handler, reason);
    }
    for (const conn of [...this.conns]) conn.destroyWith(reason);
    return this.whenSettled();
  }

  private whenSettled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private isSettled(): boolean {
    return this.state !== PoolState.Open && this.queue.length === 0 && this.running === 0 && this.conns.size === 0 &&
      this.liveSockets === 0;
  }

  private settle(): void {
    if (this.settledWaiters.length === 0 || !this.isSettled()) return;
    if (this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
    for (const resolve of this.settledWaiters.splice(0)) resolve();
  }
}
