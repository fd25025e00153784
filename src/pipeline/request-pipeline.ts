/**
 * The mode-independent HTTP request pipeline: limits → route → inspection (phases 1–4) → Http1Pool toward the
 * upstream → response streamed back → one access-log line and exactly one `inspection.end()`.
 *
 * Each request is one `Exchange` object, which is also the upstream pool's dispatch handler: no per-header
 * closures, no streams between the upstream client and the client response. Back-pressure is end to end: a client
 * response that does not drain pauses the upstream socket (onData → false), and an upstream that does not
 * drain pauses the client request (push() → false). Only the inspection buffer holds more than one
 * stream high-water mark, and it is bounded by the inspector's limit.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { GatewayConfig, Limits } from '../config/types.js';
import type { RuntimeDeps } from '../daemon/runtime.js';
import { jsonString, PlainLines } from '../log/json-line.js';
import { CompiledBlockPage } from './block-page.js';
import { ANSWERS, classifyUpstreamError, type FailureAnswer } from './failure-answers.js';
import { normalizePeerIp } from './forwarded.js';
import { connectionNominatedHeaders, isResponseHopByHopName } from './hop-by-hop.js';
import { equalsLowerCase } from './http1/ascii-case.js';
import type { Http1Handler, Http1RequestOptions } from './http1/upstream-client.js';
import type { Decision, Inspection, InspectorSet, RequestFacts } from './inspection.js';
import { checkHeadLimits, hasRequestBody, headerOf, hostOf, pathOf, upstreamRequestHeaders } from './request-head.js';
import { nextRequestId } from './request-id.js';
import type { PoolPick, Route, RouteLookup } from './route.js';
import type { GatewayRequest, GatewayResponse } from './http1/types.js';
import { relayUpgrade } from './websocket.js';

const EMPTY = Buffer.alloc(0);

/** Fields of the one access-log line per request (and per upgraded tunnel). */
export interface AccessRecord {
  readonly id: string;
  readonly peerIp: string;
  readonly clientIp: string;
  readonly host: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly rule: number | null;
  readonly upstream: string | null;
  readonly durationMs: number;
  readonly upstreamMs: number | null;
  readonly error: string | null;
  readonly serverGroup: string | null;
  readonly ruleIds?: readonly string[];
}

/** Thrown into the upstream request when the client's body exceeds limits.maxRequestBodyBytes. */
export class BodyTooLargeError extends Error {
  readonly code = 'PORTCULLIS_BODY_TOO_LARGE';
}
/** Thrown into the upstream request when the client went away. */
export class ClientAbortedError extends Error {
  readonly code = 'PORTCULLIS_CLIENT_ABORTED';
}

export class RequestPipeline {
  readonly limits: Limits;
  readonly connectTimeoutMs: number;
  /** Client body inactivity before the request is abandoned (timeouts.idleMs). */
  readonly idleMs: number;
  readonly blockPage: CompiledBlockPage;
  readonly ruleIdsHeader: string | null;
  readonly inspectors: InspectorSet | null;
  private readonly logger: Logger;
  private readonly accessLog: boolean;
  private active = 0;
  private idleWaiters: Array<() => void> = [];
  /** Access lines written without pino's generic serializer, when the logger allows (log/json-line.ts). */
  private readonly lines: PlainLines | null;
  private readonly connections = new WeakMap<object, ConnectionLog>();
  private connectionCounter = 0;
  /** Upgraded tunnels, destroyed when a drain runs out of grace. */
  readonly tunnels = new Set<{ destroy(): void }>();

  constructor(config: GatewayConfig, deps: RuntimeDeps) {
    this.limits = config.gateway.limits;
    this.connectTimeoutMs = config.gateway.timeouts.connectMs;
    this.idleMs = config.gateway.timeouts.idleMs;
    this.blockPage = new CompiledBlockPage(config.gateway.blockPage);
    this.ruleIdsHeader = config.gateway.alerts.ruleIdsHeader?.toLowerCase() ?? null;
    this.inspectors = deps.inspectors;
    this.logger = deps.logger;
    this.accessLog = config.gateway.log.accessLog;
    this.lines = PlainLines.of(deps.logger);
  }

  handleRequest(req: GatewayRequest, res: GatewayResponse, lookup: RouteLookup): void {
    const exchange = new Exchange(this, req, res);
    try {
      exchange.start(lookup);
    } catch (err) {
      // A bug must cost one request, never the process (this runs inside the front end's request dispatch).
      exchange.internalError(err);
    }
  }

  handleUpgrade(req: GatewayRequest, socket: import('node:stream').Duplex, head: Buffer, lookup: RouteLookup): void {
    relayUpgrade(this, req, socket, head, lookup);
  }

  inFlight(): number {
    return this.active;
  }

  enter(): void {
    this.active++;
  }

  leave(): void {
    this.active--;
    if (this.active === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves true once nothing is in flight, false when `graceMs` passed first. */
  whenIdle(graceMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, graceMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** The client connection's number in the log (keyed by the socket, so keep-alive requests share it). */
  private connectionOf(socket: object): ConnectionLog {
    let conn = this.connections.get(socket);
    if (conn === undefined) {
      conn = new ConnectionLog(++this.connectionCounter);
      this.connections.set(socket, conn);
    }
    return conn;
  }

  /** One pino child per client connection, binding its number (`conn`). */
  connectionLogger(socket: object): Logger {
    const conn = this.connectionOf(socket);
    return (conn.logger ??= this.logger.child({ conn: conn.number }));
  }

  logAccess(socket: object, record: AccessRecord): void {
    if (record.error === null) {
      if (!this.accessLog) return;
      const lines = this.lines;
      if (lines === null) {
        this.connectionLogger(socket).info(record, 'request');
      } else if (lines.infoEnabled()) {
        // The same line as connectionLogger(socket).info(record, 'request'), serialized for its known fields
        // when the log file writes its batch out (json-line.ts LaterLine).
        lines.infoLater(this.connectionOf(socket).binding, record, accessFields, 'request');
      }
    } else {
      // Failures are logged even when the access log is off: they carry the reason an operator needs.
      this.connectionLogger(socket).warn(record, 'request failed');
    }
  }

  /** Inspection failures are bugs in the engine: log them, never take the gateway down. */
  logEngineError(socket: object, id: string, err: unknown, what = 'policy engine error'): void {
    this.connectionLogger(socket).error({ id, err }, what);
  }

  /** Flat [name, value] list for the rule-ids header, or an empty list. */
  ruleIdsHeaderPair(inspection: Inspection | null): readonly string[] {
    if (this.ruleIdsHeader === null || inspection === null) return NO_HEADERS;
    return [this.ruleIdsHeader, inspection.matchedRuleIds().join(',')];
  }
}

/** What the log knows of one client connection. */
class ConnectionLog {
  /** The child logger's binding, serialized as pino serializes it. */
  readonly binding: string;
  logger: Logger | null = null;

  constructor(readonly number: number) {
    this.binding = `,"conn":${number}`;
  }
}

/**
 * An access record's fields as pino writes them (`,"key":value` in the record's order, `ruleIds` only
 * when set). Strings go through jsonString (host, path and method come from the client).
 */
export function accessFields(r: AccessRecord): string {
  let out = `,"id":${jsonString(r.id)},"peerIp":${jsonString(r.peerIp)},"clientIp":${jsonString(r.clientIp)}` +
    `,"host":${jsonString(r.host)},"method":${jsonString(r.method)},"path":${jsonString(r.path)}` +
    `,"status":${jsonNumber(r.status)},"bytesIn":${jsonNumber(r.bytesIn)},"bytesOut":${jsonNumber(r.bytesOut)}` +
    `,"rule":${r.rule === null ? 'null' : jsonNumber(r.rule)},"upstream":${r.upstream === null ? 'null' : jsonString(r.upstream)}` +
    `,"durationMs":${jsonNumber(r.durationMs)},"upstreamMs":${r.upstreamMs === null ? 'null' : jsonNumber(r.upstreamMs)}` +
    `,"error":${r.error === null ? 'null' : jsonString(r.error)}` +
    `,"serverGroup":${r.serverGroup === null ? 'null' : jsonString(r.serverGroup)}`;
  if (r.ruleIds !== undefined) out += `,"ruleIds":${JSON.stringify(r.ruleIds)}`;
  return out;
}

/** pino writes a non-finite number as null. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

const NO_HEADERS: readonly string[] = Object.freeze([]);
/** Methods a pooled route may replay on another server after a reset with no answer (no body). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

function uncorkResponse(res: GatewayResponse): void {
  res.uncork();
}

const enum Upstream {
  None,
  Dispatched,
  Responding,
  Done,
  /** We gave up on the upstream (block decision, client abort, local answer): ignore its callbacks. */
  Abandoned,
}

/** One request through the pipeline; also the dispatch handler (Http1Handler) of its upstream request. */
class Exchange implements Http1Handler {
  private readonly id = nextRequestId();
  private readonly startedAt = Date.now();
  private readonly t0 = performance.now();
  private readonly peerIp: string;
  private clientIp: string;
  private host = '';
  private path = '';
  private route: Route | null = null;
  /** Pooled routes: the server chosen for this request (released when the exchange ends). */
  private pick: PoolPick | null = null;
  private inspection: Inspection | null = null;
  private error: string | null = null;
  private ruleIds: readonly string[] | undefined;
  private bytesIn = 0;
  private bytesOut = 0;

  private upstream = Upstream.None;
  private upstreamT0 = 0;
  private upstreamMs: number | null = null;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private waitingForDrain = false;

  private hasBody = false;
  /** Content-Length of a body without Transfer-Encoding, else -1 (length known only at its end). */
  private declaredLength = -1;
  private requestEnded = false;
  private collecting = false;
  private collectLimit = 0;
  private prefix: Buffer[] = [];
  private prefixBytes = 0;
  private body: ForwardedBody | null = null;
  /** The body handed to the upstream pool with the last dispatch (kept for a retry on another server). */
  private sentBody: ForwardedBody | Buffer | null = null;

  /** Phase 4: response head and body held back until the engine decides. */
  private heldStatus = 0;
  private heldStatusText = '';
  private heldHeaders: string[] | null = null;
  private heldBody: Buffer[] | null = null;
  private heldBytes = 0;
  /** inspection.responseBodyLimit, read once when the response head came (the engine computes it per read). */
  private heldLimit = 0;

  private finished = false;

  constructor(private readonly pipeline: RequestPipeline, private readonly req: GatewayRequest,
    private readonly res: GatewayResponse) {
    this.peerIp = normalizePeerIp(req.socket.remoteAddress);
    this.clientIp = this.peerIp;
  }

  start(lookup: RouteLookup): void {
    const { pipeline, req, res } = this;
    pipeline.enter();
    res.once('close', this.onResponseClose);

    const overLimit = checkHeadLimits(req, pipeline.limits);
    this.host = hostOf(req);
    this.path = pathOf(req.url);
    this.hasBody = hasRequestBody(req);
    this.requestEnded = !this.hasBody;
    if (this.hasBody && headerOf(req, 'transfer-encoding') === undefined) this.declaredLength = Number(headerOf(req, 'content-length'));
    if (overLimit !== null) return this.answer(overLimit);

    const route = lookup(this.host, this.path, req);
    if (route === null) return this.answer(ANSWERS['no-matching-rule']);
    this.route = route;
    const fwd = route.forwarding;
    if (fwd.trustedHeader !== null) this.clientIp = fwd.clientIp(this.peerIp, headerOf(req, fwd.trustedHeader));
    if (route.requireClientCertificate && (req.socket as TLSSocket).authorized !== true) {
      return this.answer(ANSWERS['client-certificate-required']);
    }

    const inspector = pipeline.inspectors?.get(route.serverGroup);
    if (inspector !== undefined) {
      try {
        this.inspection = inspector.begin(this.facts(route));
        if (this.inspection !== null) {
          const decision = this.inspection.requestHeaders();
          if (decision.kind !== 'allow') return this.enforce(decision);
        }
      } catch (err) {
        pipeline.logEngineError(req.socket, this.id, err);
        this.inspection = null;
      }
    }

    if (!this.hasBody) {
      if (this.inspection !== null) {
        const decision = this.safely(() => this.inspection!.requestBodyDone(EMPTY, true));
        if (decision.kind !== 'allow') return this.enforce(decision);
      }
      return this.dispatch(null);
    }
    // Read the first part of the body before contacting the upstream: the inspection buffer when the
    // engine wants one, else just the first chunk. A request whose body turns out malformed (bad chunk
    // size) then fails in the front end's parser before anything was sent upstream.
    this.collectLimit = this.inspection === null ? 0 : this.inspection.requestBody.limit;
    this.collecting = true;
    // A client that stops sending its body must not hold an upstream connection forever. Only while the
    // body is being read: afterwards the upstream may legitimately take its time (upstreamHeadersMs).
    req.setTimeout(pipeline.idleMs, this.onClientIdle);
    req.on('data', this.onRequestData);
    req.on('end', this.onRequestEnd);
    req.on('error', this.onRequestError);
  }

  private facts(route: Route): RequestFacts {
    const { req } = this;
    const socket = req.socket;
    return {
      id: this.id,
      serverGroup: route.serverGroup,
      peerIp: this.peerIp,
      peerPort: socket.remotePort ?? 0,
      clientIp: this.clientIp,
      localIp: normalizePeerIp(socket.localAddress),
      localPort: socket.localPort ?? 0,
      tls: (socket as TLSSocket).encrypted === true,
      method: req.method ?? 'GET',
      rawTarget: req.url ?? '/',
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      startedAt: this.startedAt,
    };
  }

  /** Runs an engine call; an engine exception is logged and treated as allow (fail open, as for bridge). */
  private safely(call: () => Decision): Decision {
    try {
      return call();
    } catch (err) {
      this.pipeline.logEngineError(this.req.socket, this.id, err);
      return { kind: 'allow' };
    }
  }

  // ---- request body -------------------------------------------------------------------------------

  private readonly onRequestData = (chunk: Buffer): void => {
    this.bytesIn += chunk.length;
    const max = this.pipeline.limits.maxRequestBodyBytes;
    if (max > 0 && this.bytesIn > max) return this.bodyTooLarge();
    if (this.collecting) {
      this.prefix.push(chunk);
      this.prefixBytes += chunk.length;
      const overLimit = this.prefixBytes > this.collectLimit;
      if (this.prefixBytes === this.declaredLength && (!overLimit || this.inspection === null)) {
        // The whole body is in hand (llhttp holds a Content-Length body to its declared length): it
        // goes upstream as one buffer, written with the head, instead of through a stream. The request's
        // 'end' follows on its own; nothing is paused.
        this.collecting = false;
        this.requestEnded = true;
        this.prefixCollected(true);
      } else if (overLimit) {
        // Strictly greater: with exactly `limit` bytes we cannot yet tell whether the body is complete.
        this.req.pause();
        this.collecting = false;
        this.prefixCollected(false);
      }
    } else if (this.body !== null && !this.body.push(chunk)) {
      this.req.pause();
    }
  };

  private readonly onClientIdle = (): void => {
    if (this.requestEnded || this.finished) return;
    this.error = ANSWERS['client-timeout'].reason;
    this.abandonUpstream(new ClientAbortedError('client body idle'));
    this.req.socket.destroy();
  };

  private readonly onRequestEnd = (): void => {
    this.requestEnded = true;
    this.req.setTimeout(0);
    if (this.collecting) {
      this.collecting = false;
      this.prefixCollected(true);
    } else if (this.body !== null) {
      this.body.push(null);
    }
  };

  private readonly onRequestError = (): void => {
    // The front end aborts the request when the client resets or sends a malformed body; the response's
    // 'close' follows and finishes the exchange.
    if (this.error === null) this.error = 'client-aborted';
  };

  private prefixCollected(complete: boolean): void {
    if (this.finished || this.res.headersSent) return;
    const chunks = this.prefix;
    this.prefix = [];
    const inspection = this.inspection;
    if (inspection !== null) {
      const limit = this.collectLimit;
      let decision: Decision;
      if (limit === 0) {
        decision = this.safely(() => inspection.requestBodyDone(EMPTY, false));
      } else {
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.prefixBytes);
        if (!complete && inspection.requestBody.overLimit === 'reject') {
          return this.answer(ANSWERS['inspection-body-too-large']);
        }
        decision = this.safely(() => inspection.requestBodyDone(complete ? all : all.subarray(0, limit), complete));
      }
      if (decision.kind !== 'allow') return this.enforce(decision);
    }
    if (complete) {
      // Nothing more will come from the client: one buffer (the pool writes it with the head, with a
      // Content-Length) instead of a stream.
      this.dispatch(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.prefixBytes));
      return;
    }
    this.body = new ForwardedBody(this.req, chunks, false, this.pipeline.limits.streamHighWaterMark);
    this.dispatch(this.body);
  }

  private bodyTooLarge(): void {
    this.req.pause();
    this.req.removeListener('data', this.onRequestData);
    this.abandonUpstream(new BodyTooLargeError('request body exceeds limits.maxRequestBodyBytes'));
    this.answer(ANSWERS['body-too-large']);
  }

  // ---- upstream -----------------------------------------------------------------------------------

  private dispatch(body: ForwardedBody | Buffer | null): void {
    const route = this.route!;
    const { req } = this;
    let upstream = route.upstream;
    if (route.pool !== undefined) {
      this.pick = route.pool.pick(this.clientIp, req);
      if (this.pick === null) return this.answer(ANSWERS['no-healthy-server']);
      upstream = this.pick.upstream;
    }
    this.send(upstream, body);
  }

  private send(upstream: Route['upstream'], body: ForwardedBody | Buffer | null): void {
    const route = this.route!;
    const { req } = this;
    const tls = (req.socket as TLSSocket).encrypted === true;
    this.upstream = Upstream.Dispatched;
    this.upstreamT0 = performance.now();
    this.sentBody = body;
    try {
      upstream.pool.dispatch({
        path: req.url ?? '/',
        method: req.method ?? 'GET',
        headers: upstreamRequestHeaders(req, route, this.peerIp, tls, false),
        body,
        ...(upstream.dispatchServerName !== undefined ? { servername: upstream.dispatchServerName } : {}),
      } satisfies Http1RequestOptions, this);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /**
   * Pooled routes: another server gets the request when this one could not have seen it — the
   * connection failed before anything was written, or (GET/HEAD/OPTIONS without a body) it was reset
   * before any answer. Bounded: each server is tried at most once per request.
   */
  private retryElsewhere(err: Error): boolean {
    const pick = this.pick;
    // onError has already set Abandoned; the caller checked that no response had started.
    if (pick === null || this.res.headersSent) return false;
    const code = (err as { code?: unknown }).code;
    const notWritten = this.abortUpstream === null;
    const replayable = this.sentBody === null && IDEMPOTENT.has(this.req.method ?? '') &&
      (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET');
    if (!notWritten && !replayable) return false;
    const body = this.sentBody;
    if (body instanceof ForwardedBody && (body.destroyed || body.readableDidRead)) return false;
    const next = this.route!.pool!.retry(pick, typeof code === 'string' ? code : err.message, this.clientIp, this.req);
    if (next === null) return false;
    this.pick = next;
    this.abortUpstream = null;
    this.send(next.upstream, body);
    return true;
  }

  private abandonUpstream(reason: Error): void {
    if (this.upstream === Upstream.Dispatched || this.upstream === Upstream.Responding) {
      this.upstream = Upstream.Abandoned;
      this.abortUpstream?.(reason);
    }
    if (this.body !== null && !this.body.destroyed) this.body.destroy();
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.upstream === Upstream.Abandoned) abort(new ClientAbortedError('client went away'));
    else this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void, statusText: string): boolean {
    if (this.upstream === Upstream.Abandoned) return false;
    if (statusCode < 200) return true; // 1xx: the front end already spoke to the client about Continue.
    this.pick?.responded(statusCode);
    this.upstream = Upstream.Responding;
    this.upstreamMs = performance.now() - this.upstreamT0;
    this.resumeUpstream = resume;
    // Http1Pool hands over llhttp's own latin1 strings in a fresh array: kept as they are.
    const headers = rawHeaders;

    const inspection = this.inspection;
    if (inspection !== null) {
      const decision = this.safely(() => inspection.responseHeaders({ status: statusCode, rawHeaders: headers, httpVersion: '1.1' }));
      if (decision.kind !== 'allow') {
        this.abandonUpstream(new ClientAbortedError('response blocked'));
        this.enforce(decision);
        return false;
      }
      const limit = inspection.responseBodyLimit;
      if (limit > 0) {
        this.heldLimit = limit;
        this.heldStatus = statusCode;
        this.heldStatusText = statusText;
        this.heldHeaders = headers;
        this.heldBody = [];
        return true;
      }
    }
    return this.startResponse(statusCode, statusText, headers);
  }

  /** The response writer validates what the upstream sent (e.g. control characters in a header value). */
  private startResponse(status: number, statusText: string, headers: string[]): boolean {
    try {
      this.writeResponseHead(status, statusText, headers);
      return true;
    } catch {
      this.abandonUpstream(new ClientAbortedError('invalid upstream response head'));
      this.answer(ANSWERS['upstream-invalid-response']);
      return false;
    }
  }

  private writeResponseHead(status: number, statusText: string, headers: string[]): void {
    const out: string[] = [];
    let nominated: Set<string> | null = null;
    let hasLength = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (equalsLowerCase(name, 'connection')) nominated = connectionNominatedHeaders(headers[i + 1]);
      else if (equalsLowerCase(name, 'content-length')) hasLength = true;
    }
    const ruleIdsHeader = this.pipeline.ruleIdsHeader;
    // Names are compared without lower-casing each one (an allocation and a hash per field, per response).
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (isResponseHopByHopName(name)) continue;
      if (nominated !== null && nominated.has(name.toLowerCase())) continue;
      if (ruleIdsHeader !== null && equalsLowerCase(name, ruleIdsHeader)) continue;
      out.push(name, headers[i + 1]!);
    }
    const ids = this.pipeline.ruleIdsHeaderPair(this.inspection);
    if (ids.length > 0) out.push(ids[0]!, ids[1]!);
    if (this.pick !== null && this.pick.setCookie !== null) out.push('set-cookie', this.pick.setCookie);
    if (!this.requestEnded) out.push('connection', 'close');
    this.res.writeHead(status, statusText, out);
    // The front end holds the head until the first body bytes, so head and body leave in one writev and
    // a Content-Length response is complete with it. A chunked one still has its last chunk to come,
    // usually from the same parser pass: corking until the next tick sends it along instead of in a
    // write of its own. (Corking every response cost a tick, a stream-level cork and a queued empty
    // write per response: ≈2 µs of CPU per proxied GET.)
    if (!hasLength) {
      this.res.cork();
      process.nextTick(uncorkResponse, this.res);
    }
  }

  onData(chunk: Buffer): boolean {
    if (this.upstream === Upstream.Abandoned) return false;
    if (this.heldBody !== null) return this.holdResponseChunk(chunk);
    this.bytesOut += chunk.length;
    if (this.res.write(chunk)) return true;
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.res.once('drain', this.onResponseDrain);
    }
    return false;
  }

  private readonly onResponseDrain = (): void => {
    this.waitingForDrain = false;
    this.resumeUpstream?.();
  };

  private holdResponseChunk(chunk: Buffer): boolean {
    this.heldBody!.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > this.heldLimit) return this.releaseHeldResponse(false);
    return true;
  }

  /** Phase 4 decision on the held response; then the held part is written and the rest streams. */
  private releaseHeldResponse(complete: boolean): boolean {
    const inspection = this.inspection!;
    const chunks = this.heldBody!;
    this.heldBody = null;
    // Body chunks are the upstream parser's own copies: one of them can be passed on as it is.
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.heldBytes);
    const limit = this.heldLimit;
    const decision = this.safely(() => inspection.responseBodyDone(complete ? all : all.subarray(0, limit), complete));
    if (decision.kind !== 'allow') {
      this.abandonUpstream(new ClientAbortedError('response blocked'));
      this.enforce(decision);
      return false;
    }
    const headers = this.heldHeaders!;
    this.heldHeaders = null;
    if (!this.startResponse(this.heldStatus, this.heldStatusText, headers)) return false;
    this.bytesOut += all.length;
    if (complete) {
      this.res.end(all);
      return true;
    }
    return this.res.write(all) || this.onDataPaused();
  }

  private onDataPaused(): false {
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.res.once('drain', this.onResponseDrain);
    }
    return false;
  }

  onComplete(): void {
    if (this.upstream === Upstream.Abandoned) return;
    this.upstream = Upstream.Done;
    if (this.heldBody !== null) {
      this.releaseHeldResponse(true);
      return;
    }
    this.res.end();
  }

  onError(err: Error): void {
    if (this.upstream === Upstream.Abandoned || this.finished) return;
    const wasResponding = this.upstream === Upstream.Responding;
    this.upstream = Upstream.Abandoned;
    if (this.upstreamMs === null && this.upstreamT0 > 0) this.upstreamMs = performance.now() - this.upstreamT0;
    if ((err as { code?: string }).code === 'PORTCULLIS_BODY_TOO_LARGE') return;
    if (!wasResponding && this.retryElsewhere(err)) return;
    const answer = classifyUpstreamError(err);
    if (wasResponding || this.res.headersSent) {
      // Mid-response: destroying the client socket is the only honest signal. Ending the response would
      // present a truncated body as complete (a chunked terminator, or a short Content-Length body).
      this.error = answer.reason === 'upstream-error' ? 'upstream-reset' : answer.reason;
      this.res.destroy();
      return;
    }
    this.answer(answer);
  }

  // ---- answers --------------------------------------------------------------------------------------

  internalError(err: unknown): void {
    this.pipeline.logEngineError(this.req.socket, this.id, err, 'pipeline error');
    try {
      this.answer(ANSWERS['internal-error']);
    } catch {
      this.res.destroy();
    }
  }

  /** A gateway-made answer (404, 413, 502, 504 …) with its reason code. */
  private answer(a: FailureAnswer): void {
    this.error = a.reason;
    if (this.body !== null && !this.body.destroyed) this.body.destroy();
    if (this.upstream === Upstream.Dispatched || this.upstream === Upstream.Responding) {
      this.abandonUpstream(new ClientAbortedError('answered locally'));
    }
    const { res } = this;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const headers: string[] = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(a.body.length),
      'cache-control', 'no-store'];
    const ids = this.pipeline.ruleIdsHeaderPair(this.inspection);
    if (ids.length > 0) headers.push(ids[0]!, ids[1]!);
    // An unread request body would otherwise be read (and discarded) by the front end to reuse the socket.
    if (!this.requestEnded) headers.push('connection', 'close');
    res.writeHead(a.status, headers);
    this.bytesOut += a.body.length;
    res.end(a.body);
  }

  /** Applies a non-allow decision of the engine. */
  private enforce(decision: Decision): void {
    if (decision.kind === 'allow') return;
    const { res } = this;
    this.ruleIds = decision.ruleIds;
    if (this.body !== null && !this.body.destroyed) this.body.destroy();
    if (decision.kind === 'drop') {
      this.error = 'dropped';
      this.req.socket.destroy();
      return;
    }
    if (res.headersSent) {
      this.error = decision.kind === 'block' ? 'blocked' : 'redirected';
      res.destroy();
      return;
    }
    const headers: string[] = [];
    const ids = this.pipeline.ruleIdsHeaderPair(this.inspection);
    if (ids.length > 0) headers.push(ids[0]!, ids[1]!);
    if (!this.requestEnded) headers.push('connection', 'close');
    if (decision.kind === 'redirect') {
      this.error = 'redirected';
      headers.push('location', decision.location, 'content-length', '0', 'cache-control', 'no-store');
      res.writeHead(decision.status > 0 ? decision.status : 302, headers);
      res.end();
      return;
    }
    this.error = 'blocked';
    const page = this.pipeline.blockPage;
    const body = page.render(this.id, this.clientIp, decision.ruleIds);
    headers.push('content-type', page.contentType, 'content-length', String(body.length), 'cache-control', 'no-store');
    res.writeHead(decision.status > 0 ? decision.status : page.status, headers);
    this.bytesOut += body.length;
    res.end(body);
  }

  // ---- end ----------------------------------------------------------------------------------------

  /** 'close' fires once per response: after a complete response, or when the client connection died. */
  private readonly onResponseClose = (): void => {
    if (this.finished) return;
    this.finished = true;
    const { res, req } = this;
    const completed = res.writableFinished;
    if (this.upstream === Upstream.Dispatched || this.upstream === Upstream.Responding) {
      this.abandonUpstream(new ClientAbortedError('client went away'));
      if (this.error === null) this.error = 'client-aborted';
    } else if (!completed && this.error === null) {
      this.error = 'client-aborted';
    }
    if (this.body !== null && !this.body.destroyed) this.body.destroy();
    if (this.hasBody) {
      req.removeListener('data', this.onRequestData);
      req.removeListener('end', this.onRequestEnd);
    }
    const status = completed ? res.statusCode : 0;
    const durationMs = Math.round((performance.now() - this.t0) * 1000) / 1000;
    if (this.inspection !== null) {
      try {
        this.inspection.end({ status, bytesIn: this.bytesIn, bytesOut: this.bytesOut, error: this.error, durationMs });
      } catch (err) {
        this.pipeline.logEngineError(req.socket, this.id, err);
      }
    }
    const route = this.route;
    this.pick?.release();
    const record: AccessRecord = {
      id: this.id,
      peerIp: this.peerIp,
      clientIp: this.clientIp,
      host: this.host,
      method: req.method ?? '',
      path: this.path,
      status,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      rule: route === null ? null : route.rule,
      upstream: route === null ? null : (this.pick?.upstream ?? route.upstream).label,
      durationMs,
      upstreamMs: this.upstreamMs === null ? null : Math.round(this.upstreamMs * 1000) / 1000,
      error: this.error,
      serverGroup: route === null ? null : route.serverGroup,
      ...(this.ruleIds !== undefined ? { ruleIds: this.ruleIds } : {}),
    };
    this.pipeline.logAccess(req.socket as Socket, record);
    this.pipeline.leave();
  };
}

/**
 * The request body toward the upstream pool: first the chunks read before dispatch, then the rest of the client's
 * request, pausing the client when the upstream socket does not keep up.
 */
class ForwardedBody extends Readable {
  constructor(private readonly source: GatewayRequest, chunks: readonly Buffer[], ended: boolean,
    highWaterMark: number) {
    super({ highWaterMark });
    for (const chunk of chunks) this.push(chunk);
    if (ended) this.push(null);
  }

  override _read(): void {
    if (this.source.isPaused()) this.source.resume();
  }
}
