/**
 * The gateway's HTTP/1.1 server front end, in place of node:http's server side. One llhttp parser per
 * connection (strict: no lenient flags) reads straight from the socket's handle (`consume`), the request
 * and response objects are plain classes (request.ts, response.ts), and the connection does what
 * node:http's server does around them: pipelined requests answered in order, Expect: 100-continue,
 * upgrades handed over with the bytes after the head, keep-alive and head timeouts, and parse errors
 * routed to a clientError handler with llhttp's code. docs/RATIONALE.md "Server front end" says why.
 */
import net, { type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls, { type Server as TlsServer, type TlsOptions } from 'node:tls';
import { HTTPParser, METHODS, streamHandleOf, type LlhttpError, type LlhttpParser } from './llhttp.js';
import { Http1Request, type RequestOwner } from './request.js';
import { Http1Response, type ResponseOwner } from './response.js';
import type { GatewayRequest, GatewayResponse } from './types.js';
import { validateRequestHead } from '../request-validation.js';

export interface Http1Options {
  /** Request line + headers, in bytes (llhttp answers HPE_HEADER_OVERFLOW beyond). */
  readonly maxHeaderSize: number;
  /** The whole head must arrive within this time (ms; 0 = no limit): else 408 via onClientError. */
  readonly headersTimeout: number;
  /** An idle keep-alive connection is closed after this time (ms; 0 = never). */
  readonly keepAliveTimeout: number;
}

export type ClientErrorCallback = (err: Error & { code?: string }, socket: Duplex,
  inFlight: { readonly headersSent: boolean } | null) => void;

export interface Http1Handlers {
  onRequest(req: GatewayRequest, res: GatewayResponse): void;
  onUpgrade(req: GatewayRequest, socket: Duplex, head: Buffer): void;
  /** Malformed request (llhttp code in err.code) or head timeout (ERR_HTTP_REQUEST_TIMEOUT). */
  onClientError: ClientErrorCallback;
  /** A handler or callback threw: a bug. The connection is answered 500 or closed; this logs it. */
  onBug(err: unknown, where: string): void;
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const CONTINUE_TOKEN = /(?:^|\W)100-continue(?:$|\W)/i;
const EXPECTATION_FAILED = ['Connection', 'close', 'Content-Length', '0'];
const INTERNAL_ERROR = ['Connection', 'close', 'Content-Length', '0'];

/** llhttp's method index of CONNECT. */
const CONNECT_METHOD = METHODS.indexOf('CONNECT');

interface BoundParser extends LlhttpParser {
  conn: Http1Connection | null;
}

// The parser callbacks run inside llhttp (and inside the socket's read): an exception escaping them would
// become an uncaught exception. Each is a plain function (no closure per connection), `this` the parser.
function onHeaders(this: BoundParser, headers: string[], url: string): void {
  const conn = this.conn;
  if (conn === null) return;
  try {
    conn.headPart(headers, url);
  } catch (err) {
    conn.bug(err, 'parser headers');
  }
}

function onHeadersComplete(this: BoundParser, major: number, minor: number, headers: string[] | undefined,
  method: number, url: string | undefined, _status: unknown, _statusText: unknown, upgrade: boolean,
  keepAlive: boolean): number {
  const conn = this.conn;
  if (conn === null) return 0;
  try {
    conn.head(major, minor, headers, method, url, upgrade, keepAlive);
  } catch (err) {
    conn.bug(err, 'request head');
  }
  return 0;
}

function onBody(this: BoundParser, chunk: Buffer): void {
  const conn = this.conn;
  if (conn === null) return;
  try {
    conn.body(chunk);
  } catch (err) {
    conn.bug(err, 'request body');
  }
}

function onMessageComplete(this: BoundParser): void {
  const conn = this.conn;
  if (conn === null) return;
  try {
    conn.messageComplete();
  } catch (err) {
    conn.bug(err, 'request end');
  }
}

function onExecute(this: BoundParser, ret: number | LlhttpError): void {
  const conn = this.conn;
  if (conn === null) return;
  try {
    conn.executed(ret, undefined);
  } catch (err) {
    conn.bug(err, 'parser');
  }
}

function newParser(maxHeaderSize: number): BoundParser {
  const parser = new HTTPParser() as BoundParser;
  parser.initialize(HTTPParser.REQUEST, {}, maxHeaderSize, HTTPParser.kLenientNone);
  parser[HTTPParser.kOnHeaders] = onHeaders;
  parser[HTTPParser.kOnHeadersComplete] = onHeadersComplete;
  parser[HTTPParser.kOnBody] = onBody;
  parser[HTTPParser.kOnMessageComplete] = onMessageComplete;
  parser[HTTPParser.kOnExecute] = onExecute;
  parser.conn = null;
  return parser;
}

function closeParser(parser: LlhttpParser): void {
  parser.close();
}

interface Queued {
  readonly req: Http1Request;
  readonly res: Http1Response;
}

class Http1Connection implements RequestOwner, ResponseOwner {
  readonly parser: BoundParser;
  /** llhttp reads the handle itself; false = fed from 'data' events (a socket without a stream handle). */
  private consumed = false;
  private reading = true;
  /** The request being answered (its response not finished yet). */
  private current: Http1Request | null = null;
  private currentRes: Http1Response | null = null;
  /** The request whose body the parser is in (null between messages). */
  private parsing: Http1Request | null = null;
  /** Pipelined requests parsed while an earlier one is answered. */
  private queue: Queued[] | null = null;
  private upgradeReq: Http1Request | null = null;
  private pendingUpgrade: { req: Http1Request; head: Buffer } | null = null;
  private headerParts: string[] = [];
  private urlPart = '';
  private requests = 0;
  private gotBytes = false;
  private readonly acceptedAt = Date.now();
  private idleSince = 0;
  /** The client sent FIN. */
  private peerEnded = false;
  /** A parse error or timeout was reported: nothing more is parsed or answered. */
  private failed = false;
  /** A parse error behind a request still being answered: reported once that response is written. */
  private deferredError: (Error & { code?: string }) | null = null;
  private closed = false;
  private upgraded = false;
  readonly onFinalWrite = (err?: Error | null): void => {
    try {
      this.responseWritten(err ?? null);
    } catch (bug) {
      this.bug(bug, 'response end');
    }
  };
  private readonly onSocketData = (data: Buffer): void => {
    try {
      this.executed(this.parser.execute(data), data);
    } catch (err) {
      this.bug(err, 'parser');
    }
  };
  private readonly onSocketEnd = (): void => this.guard(peerEnd, 'client end');
  private readonly onSocketClose = (): void => this.guard(socketClosed, 'connection close');
  private readonly onSocketDrain = (): void => this.guard(socketDrained, 'response drain');
  /** Closing after the current response: nothing more is parsed or dispatched. */
  private closing = false;

  constructor(readonly socket: Socket, private readonly front: Http1Front) {
    this.parser = newParser(front.options.maxHeaderSize);
    this.parser.conn = this;
    socket.on('error', noop); // every error also closes the socket; 'close' does the cleanup
    socket.on('end', this.onSocketEnd);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onSocketDrain);
    // Also puts the socket in flowing mode, which is what makes it emit 'end' on EOF when consumed.
    socket.on('data', this.onSocketData);
    const handle = streamHandleOf(socket);
    if (handle !== null && handle._consumed !== true) {
      handle._consumed = true;
      this.parser.consume(handle);
      this.consumed = true;
    }
  }

  // ---- parser events --------------------------------------------------------------------------------

  headPart(headers: string[], url: string): void {
    // More than 32 header lines (or a head split across reads with many lines): llhttp hands them over
    // in parts and the final call gets none.
    for (const h of headers) this.headerParts.push(h);
    this.urlPart += url;
  }

  head(major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined,
    upgrade: boolean, keepAlive: boolean): void {
    if (this.failed || this.closing) return;
    if (headers === undefined) {
      headers = this.headerParts;
      this.headerParts = [];
    }
    if (url === undefined) {
      url = this.urlPart;
      this.urlPart = '';
    }
    const violation = validateRequestHead(url, major, minor, headers, method === CONNECT_METHOD);
    if (violation !== null) {
      this.fail(Object.assign(new Error(`Parse Error: ${violation.message}`), { code: violation.code }));
      return;
    }
    this.requests++;
    const req = new Http1Request(this, METHODS[method] ?? 'GET', url, major, minor, headers);
    if (!keepAlive) req.keepAlive = false;
    this.parsing = req;
    if (upgrade) {
      this.upgradeReq = req;
      return;
    }
    const res = new Http1Response(this, req);
    if (this.current === null) {
      this.dispatch(req, res);
    } else {
      (this.queue ??= []).push({ req, res });
      this.updateReading();
    }
  }

  body(chunk: Buffer): void {
    this.parsing?.push(chunk);
  }

  messageComplete(): void {
    const req = this.parsing;
    this.parsing = null;
    // Trailer fields arrive like header parts; the pipeline does not use them.
    if (this.headerParts.length > 0) this.headerParts = [];
    this.urlPart = '';
    req?.finish();
  }

  executed(ret: number | LlhttpError, data: Buffer | undefined): void {
    this.gotBytes = true;
    if (typeof ret !== 'number') {
      this.parseError(ret, data);
      return;
    }
    if (this.upgradeReq !== null) {
      this.upgradeParsed(ret, data);
      return;
    }
    if (this.parsing !== null) this.updateReading();
  }

  // ---- requests and responses -----------------------------------------------------------------------

  private dispatch(req: Http1Request, res: Http1Response): void {
    this.current = req;
    this.currentRes = res;
    req.dispatch();
    if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
      const expect = expectHeader(req.rawHeaders);
      if (expect !== undefined) {
        if (!CONTINUE_TOKEN.test(expect)) {
          res.writeHead(417, EXPECTATION_FAILED);
          res.end();
          return;
        }
        // node:http's default: the client may send the body now; the gateway reads it as it streams.
        this.socket.write(CONTINUE, 'latin1');
      }
    }
    try {
      this.front.handlers.onRequest(req, res);
    } catch (err) {
      this.front.handlers.onBug(err, 'request handler');
      if (!res.headersSent) {
        res.writeHead(500, INTERNAL_ERROR);
        res.end();
      } else {
        res.destroy();
      }
    }
  }

  private responseWritten(err: Error | null): void {
    const res = this.currentRes;
    const req = this.current;
    if (res === null || req === null) return;
    if (err !== null) {
      // The socket died under the write; its 'close' finishes the exchange as aborted.
      this.socket.destroy();
      return;
    }
    this.current = null;
    this.currentRes = null;
    req.setTimeout(0);
    res.close(true);
    if (this.closed) return;
    if (res.last || this.peerEnded || this.front.draining) {
      this.closing = true;
      this.updateReading();
      this.socket.destroySoon();
      return;
    }
    if (!req.complete) req.dump();
    this.idleSince = Date.now();
    const next = this.queue?.shift();
    if (this.queue !== null && this.queue.length === 0) this.queue = null;
    if (next !== undefined) {
      this.dispatch(next.req, next.res);
    } else if (this.deferredError !== null) {
      const err = this.deferredError;
      this.deferredError = null;
      this.reportClientError(err);
      return;
    } else if (this.pendingUpgrade !== null) {
      // Requests pipelined before the upgrade were answered first, in order.
      const { req: upgradeReq, head } = this.pendingUpgrade;
      this.pendingUpgrade = null;
      this.handOver(upgradeReq, head);
      return;
    }
    this.updateReading();
  }

  keepAliveAllowed(req: Http1Request): boolean {
    return req.keepAlive && !this.front.draining && !this.peerEnded && !this.closing;
  }

  keepAliveLines(): string {
    return this.front.keepAliveLines;
  }

  /** Reads only while nothing waits: no queued request, and the body being parsed is wanted. */
  updateReading(): void {
    if (this.closed || this.upgraded) return;
    const want = !this.failed && !this.closing && this.queue === null && this.pendingUpgrade === null &&
      (this.parsing === null || this.parsing.wantsBody);
    if (want === this.reading) return;
    this.reading = want;
    if (!this.consumed) {
      if (want) this.socket.resume();
      else this.socket.pause();
      return;
    }
    const handle = streamHandleOf(this.socket);
    if (handle === null) return;
    // Kept in step with net.Socket's own flag, as node:http does for consumed sockets.
    handle.reading = want;
    if (want) handle.readStart();
    else handle.readStop();
  }

  // ---- upgrades ---------------------------------------------------------------------------------------

  private upgradeParsed(ret: number, data: Buffer | undefined): void {
    const req = this.upgradeReq!;
    this.upgradeReq = null;
    const buffer = data ?? this.parser.getCurrentBuffer();
    const head = buffer.subarray(ret);
    this.stopParsing();
    if (this.current !== null) {
      // Behind a response still being written: hand over once it is done.
      this.pendingUpgrade = { req, head };
      this.socket.pause();
      return;
    }
    this.handOver(req, head);
  }

  private handOver(req: Http1Request, head: Buffer): void {
    this.upgraded = true;
    this.front.connections.delete(this);
    const socket = this.socket;
    socket.removeListener('end', this.onSocketEnd);
    socket.removeListener('close', this.onSocketClose);
    socket.removeListener('drain', this.onSocketDrain);
    socket.removeListener('data', this.onSocketData);
    // Bytes that arrive before the upgrade handler reads are kept by the socket, not emitted to nobody.
    (socket as { readableFlowing: boolean | null }).readableFlowing = null;
    this.releaseParser();
    req.dispatch();
    try {
      this.front.handlers.onUpgrade(req, socket, head);
    } catch (err) {
      this.front.handlers.onBug(err, 'upgrade handler');
      socket.destroy();
    }
  }

  /** Gives the handle back to the socket (for an upgrade). */
  private stopParsing(): void {
    if (this.consumed) {
      this.consumed = false;
      this.parser.unconsume();
      const handle = streamHandleOf(this.socket);
      if (handle) handle._consumed = false;
    }
    this.socket.removeListener('data', this.onSocketData);
  }

  private releaseParser(): void {
    this.parser.conn = null;
    // Not from inside one of its own callbacks: llhttp may still be on the stack.
    setImmediate(closeParser, this.parser);
  }

  // ---- errors, timeouts, end ------------------------------------------------------------------------

  private parseError(err: LlhttpError, data: Buffer | undefined): void {
    if (this.failed || this.closed) return;
    if (typeof err.reason === 'string') err.message = `Parse Error: ${err.reason}`;
    if (data !== undefined) (err as LlhttpError & { rawPacket?: Buffer }).rawPacket = data;
    this.fail(err);
  }

  /** Reports a parse error or head timeout to the clientError handler, which answers and closes. */
  private fail(err: Error & { code?: string }): void {
    this.failed = true;
    this.updateReading();
    const parsing = this.parsing;
    if (parsing !== null && parsing.dispatched) parsing.abort();
    const current = this.current;
    if (current !== null && parsing !== current && this.currentRes !== null && !this.currentRes.headersSent) {
      // The error is in what the client sent after the request being answered: that request keeps its
      // answer (and any complete pipelined ones after it, in order); the error answer and the close come
      // after them. Answering 400 now would lose a valid request.
      if (this.queue !== null && parsing !== null) {
        this.queue = this.queue.filter((q) => q.req !== parsing);
        if (this.queue.length === 0) this.queue = null;
      }
      this.deferredError = err;
      return;
    }
    this.queue = null;
    this.reportClientError(err);
  }

  private reportClientError(err: Error & { code?: string }): void {
    try {
      this.front.handlers.onClientError(err, this.socket, this.currentRes);
    } catch (bug) {
      this.front.handlers.onBug(bug, 'clientError handler');
      this.socket.destroy();
    }
  }

  /** Called by the server's sweep: head timeout and keep-alive idle timeout. */
  checkTimers(now: number): void {
    if (this.closed || this.failed || this.current !== null || this.parsing !== null || this.pendingUpgrade !== null) return;
    const { headersTimeout, keepAliveTimeout } = this.front.options;
    if (this.requests === 0) {
      // No message yet: the head (of the first request) is due within headersTimeout of the accept.
      if (headersTimeout > 0 && now - this.acceptedAt > headersTimeout) this.timeout();
      return;
    }
    if (this.parser.headersCompleted()) {
      if (keepAliveTimeout > 0 && now - this.idleSince > keepAliveTimeout) this.socket.destroy();
    } else if (headersTimeout > 0 && this.parser.duration() > headersTimeout) {
      this.timeout();
    }
  }

  private timeout(): void {
    this.fail(Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }));
  }

  /** Nothing in flight, nothing half-received: safe to close now. */
  isIdle(): boolean {
    if (this.current !== null || this.parsing !== null || this.queue !== null || this.pendingUpgrade !== null) return false;
    return this.requests === 0 ? !this.gotBytes : this.parser.headersCompleted();
  }

  peerEnd(): void {
    if (this.closed || this.upgraded) return;
    this.peerEnded = true;
    if (!this.failed) {
      const ret = this.parser.finish();
      if (ret !== undefined) {
        this.parseError(ret, undefined);
        return;
      }
    }
    // Like node:http (httpAllowHalfOpen off): a client that sent FIN is gone. Closing now is also what
    // tells the pipeline, through the response's 'close', to abandon an upstream request in flight.
    this.closing = true;
    this.socket.destroySoon();
  }

  socketClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.front.connections.delete(this);
    const req = this.current;
    const res = this.currentRes;
    this.current = null;
    this.currentRes = null;
    this.queue = null;
    this.pendingUpgrade = null;
    if (this.parsing !== null && this.parsing.dispatched) this.parsing.abort();
    else if (req !== null && !req.complete) req.abort();
    req?.setTimeout(0);
    res?.close(false);
    if (this.consumed) {
      this.consumed = false;
      try {
        this.parser.unconsume();
      } catch {
        // The handle is already gone.
      }
    }
    this.releaseParser();
  }

  socketDrained(): void {
    this.currentRes?.socketDrained();
  }

  /** Runs an event handler of the connection; a throw (a bug) costs this connection only. */
  guard(fn: (this: Http1Connection) => void, where: string): void {
    try {
      fn.call(this);
    } catch (err) {
      this.bug(err, where);
    }
  }

  bug(err: unknown, where: string): void {
    try {
      this.front.handlers.onBug(err, where);
    } catch {
      // A logger that throws must not take the process down either.
    }
    this.socket.destroy();
  }
}

function noop(): void {}
function peerEnd(this: Http1Connection): void {
  this.peerEnd();
}
function socketClosed(this: Http1Connection): void {
  this.socketClosed();
}
function socketDrained(this: Http1Connection): void {
  this.socketDrained();
}

/** The Expect field value (first one), or undefined. */
function expectHeader(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 6 && name.toLowerCase() === 'expect') return raw[i + 1];
  }
  return undefined;
}

/**
 * The HTTP/1.1 front end of one listening server: its connections, options (changed live on reload),
 * and the sweep that enforces the head and keep-alive timeouts without a timer per request.
 */
export class Http1Front {
  readonly connections = new Set<Http1Connection>();
  /** Set by a drain: idle connections were closed; busy ones close after their response. */
  draining = false;
  options: Http1Options;
  keepAliveLines = '';
  #sweep: NodeJS.Timeout | null = null;
  #sweepEvery = 0;

  constructor(options: Http1Options, readonly handlers: Http1Handlers) {
    this.options = options;
    this.setOptions(options);
  }

  /** Takes effect for new connections (maxHeaderSize) and at once (timeouts). */
  setOptions(options: Http1Options): void {
    this.options = options;
    this.keepAliveLines = options.keepAliveTimeout > 0
      ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(options.keepAliveTimeout / 1000)}\r\n`
      : 'Connection: keep-alive\r\n';
    const limits = [options.headersTimeout, options.keepAliveTimeout].filter((t) => t > 0);
    const every = limits.length === 0 ? 1000 : Math.max(50, Math.min(1000, Math.floor(Math.min(...limits) / 4)));
    if (every !== this.#sweepEvery && this.#sweep !== null) {
      this.stop();
      this.#sweepEvery = every;
      this.start();
    }
    this.#sweepEvery = every;
  }

  /** Serves one accepted (for TLS: handshaken) connection. */
  accept(socket: Socket): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    this.connections.add(new Http1Connection(socket, this));
  }

  /** Attaches to a server: serves its connections, sweeps while it listens. */
  attach(server: NetServer | TlsServer): void {
    if (server instanceof tls.Server) server.on('secureConnection', (socket: Socket) => this.accept(socket));
    else server.on('connection', (socket: Socket) => this.accept(socket));
    server.on('listening', () => {
      this.draining = false;
      this.start();
    });
    server.on('close', () => this.stop());
  }

  start(): void {
    if (this.#sweep !== null) return;
    this.#sweep = setInterval(() => this.sweep(), this.#sweepEvery);
    this.#sweep.unref();
  }

  stop(): void {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
  }

  sweep(): void {
    const now = Date.now();
    for (const conn of this.connections) conn.checkTimers(now);
  }

  /** Stops keep-alive everywhere and closes the idle connections now; busy ones close after their response. */
  drain(): void {
    this.draining = true;
    this.closeIdleConnections();
  }

  closeIdleConnections(): void {
    for (const conn of this.connections) if (conn.isIdle()) conn.socket.destroy();
  }

  closeAllConnections(): void {
    for (const conn of this.connections) conn.socket.destroy();
  }
}

export interface Http1ServerOptions extends Http1Options {
  /** Socket buffer high-water mark (limits.streamHighWaterMark). */
  readonly highWaterMark?: number;
  readonly noDelay?: boolean;
}

/**
 * A net.Server (or, with `tlsOptions`, a tls.Server) serving HTTP/1.1 through `handlers`. On plain TCP
 * `allowHalfOpen` lets a client that half-closes after its request still get the answer.
 */
export function createHttp1Server(options: Http1ServerOptions, handlers: Http1Handlers,
  tlsOptions: TlsOptions | null = null): { server: NetServer | TlsServer; front: Http1Front } {
  const front = new Http1Front(options, handlers);
  const base = {
    noDelay: options.noDelay ?? true,
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
  };
  // TLS stays as node:https has it (no half-open): a TLSSocket that ends before or during the handshake
  // would otherwise never close.
  const server = tlsOptions === null
    ? net.createServer({ ...base, allowHalfOpen: true })
    : tls.createServer({ ALPNProtocols: ['http/1.1'], ...tlsOptions, ...base });
  front.attach(server);
  return { server, front };
}
