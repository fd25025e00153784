/**
 * Feeds reassembled TCP flows to the policy engine exactly like the proxy does: one Inspection per
 * HTTP request (RequestFacts with the client as peer), phases 1–5 in order, one `end()` per request.
 * Used by sniff mode (live) and by `portcullis replay` (offline); only what happens on a block
 * differs, and that is the caller's `blocked` hook.
 */
import { brotliDecompressSync, constants as zlibConstants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { GatewayConfig } from '../config/types.js';
import type { Decision, Inspection, InspectorSet, RequestFacts } from '../pipeline/inspection.js';
import { nextRequestId } from '../pipeline/request-id.js';
import { HttpStreamParser, type MessageHead } from './http-stream-parser.js';
import type { ProtectedEndpoint, ProtectedEndpoints } from './protected-endpoints.js';
import { CLIENT_HELLO_MAX_BYTES, looksLikeTls, parseClientHello } from './tls-client-hello.js';
import { TO_SERVER, type CloseReason, type Direction, type FlowEvents, type TcpFlow } from './tcp-reassembly.js';

export interface FlowInspectionStats {
  requests: number;
  responses: number;
  /** Request and response bytes (heads and bodies) handed to the HTTP parsers. */
  bytesInspected: number;
  tlsFlows: number;
  violations: number;
  /** Flows whose requests the engine blocked (reset in sniff mode). */
  blockedFlows: number;
  /** Compressed response bodies that could not be decoded (inspected as received). */
  decodeErrors: number;
}

export interface BlockedRequest {
  readonly flow: TcpFlow;
  readonly facts: RequestFacts;
  readonly decision: Exclude<Decision, { kind: 'allow' }>;
}

export interface FlowInspectionHooks {
  /**
   * The engine blocked a request of `flow` (active groups only). Returns true when the flow is torn
   * down (sniff: resets injected), false to keep inspecting its later requests (replay).
   */
  blocked(b: BlockedRequest): boolean;
  /** A flow finished (for per-flow bookkeeping of the caller). */
  closed?(flow: TcpFlow, reason: CloseReason): void;
}

interface Exchange {
  readonly facts: RequestFacts;
  readonly inspection: Inspection | null;
  readonly method: string;
  reqBody: Buffer[];
  reqBodyBytes: number;
  reqBodyLimit: number;
  reqBodyDone: boolean;
  status: number;
  respEncoding: string;
  respBody: Buffer[];
  respBodyBytes: number;
  respBodyLimit: number;
  bytesIn: number;
  bytesOut: number;
  responseStarted: boolean;
  /** Set by a blocking decision: no further phase runs; the status the gateway answers with. */
  stoppedStatus: number | null;
}

const EMPTY = Buffer.alloc(0);

class FlowConversation {
  readonly exchanges: Exchange[] = [];
  /** Index in `exchanges` of the request whose response comes next. */
  respIndex = 0;
  requests: HttpStreamParser | null = null;
  responses: HttpStreamParser | null = null;
  /** Set while deciding whether the stream is TLS: the first bytes from the client. */
  firstBytes: Buffer | null = Buffer.alloc(0);
  tls = false;
  torn = false;
  /** The connection left HTTP (101 Switching Protocols, CONNECT): the rest is not parsed. */
  opaque = false;

  constructor(readonly flow: TcpFlow, readonly endpoint: ProtectedEndpoint) {}
}

export class FlowInspection implements FlowEvents {
  readonly stats: FlowInspectionStats = {
    requests: 0, responses: 0, bytesInspected: 0, tlsFlows: 0, violations: 0, blockedFlows: 0, decodeErrors: 0,
  };
  private readonly parserLimits: { maxHeaderBytes: number; maxHeaderCount: number };

  constructor(
    config: GatewayConfig,
    private readonly endpoints: ProtectedEndpoints,
    private readonly inspectors: InspectorSet | null,
    private readonly hooks: FlowInspectionHooks,
    /** Clock for RequestFacts.startedAt: capture time of the current packet. */
    private readonly now: () => number = Date.now,
  ) {
    this.parserLimits = { maxHeaderBytes: config.gateway.limits.maxHeaderBytes, maxHeaderCount: config.gateway.limits.maxHeaderCount };
  }

  opened(flow: TcpFlow): void {
    const endpoint = this.endpoints.lookup(flow.serverIp, flow.serverPort);
    if (!endpoint) return;
    const conv = new FlowConversation(flow, endpoint);
    flow.app = conv;
    if (endpoint.tls) conv.tls = true;
  }

  data(flow: TcpFlow, dir: Direction, chunk: Buffer): void {
    const conv = flow.app as FlowConversation | null;
    if (!conv || conv.torn) return;
    if (conv.firstBytes !== null) {
      if (dir !== TO_SERVER) return; // server speaks first: not HTTP (or we missed the start); wait for the client
      conv.firstBytes = conv.firstBytes.length === 0 ? Buffer.from(chunk) : Buffer.concat([conv.firstBytes, chunk]);
      if (!this.classify(conv)) return;
      const first = conv.firstBytes;
      conv.firstBytes = null;
      if (conv.tls) return;
      conv.requests!.push(first);
      return;
    }
    if (conv.tls || conv.opaque) return;
    this.stats.bytesInspected += chunk.length;
    if (dir === TO_SERVER) conv.requests!.push(chunk);
    else conv.responses!.push(chunk);
  }

  gap(flow: TcpFlow, dir: Direction): void {
    const conv = flow.app as FlowConversation | null;
    if (!conv || conv.torn || conv.tls || conv.firstBytes !== null) return;
    if (dir === TO_SERVER) conv.requests!.gap();
    else conv.responses!.gap();
  }

  closed(flow: TcpFlow, reason: CloseReason): void {
    const conv = flow.app as FlowConversation | null;
    if (conv) {
      if (conv.firstBytes !== null && conv.firstBytes.length > 0) {
        // Too short to decide before the flow ended: treat what we have as HTTP.
        if (conv.tls || looksLikeTls(conv.firstBytes)) this.reportTls(conv, null);
        else {
          this.startHttp(conv);
          conv.requests!.push(conv.firstBytes);
        }
        conv.firstBytes = null;
      }
      if (!conv.torn) {
        conv.requests?.close();
        conv.responses?.close();
      }
      for (const ex of conv.exchanges) this.finishExchange(ex, reason === 'rst' ? 'connection reset' : `connection closed (${reason})`);
      conv.exchanges.length = 0;
      flow.app = null;
    }
    this.hooks.closed?.(flow, reason);
  }

  /** Decides TLS or HTTP from the client's first bytes; false while more bytes are needed. */
  private classify(conv: FlowConversation): boolean {
    const buf = conv.firstBytes!;
    if (conv.tls || looksLikeTls(buf)) {
      const hello = parseClientHello(buf);
      if (hello.kind === 'incomplete' && buf.length < CLIENT_HELLO_MAX_BYTES) return false;
      conv.tls = true;
      this.reportTls(conv, hello.kind === 'client-hello' ? hello.serverName : null);
      return true;
    }
    this.startHttp(conv);
    return true;
  }

  private reportTls(conv: FlowConversation, serverName: string | null): void {
    conv.tls = true;
    this.stats.tlsFlows++;
    const f = conv.flow;
    this.inspectors?.protocolViolation({
      id: nextRequestId(),
      serverGroup: conv.endpoint.group.name,
      peerIp: f.clientIp,
      clientIp: f.clientIp,
      reason: 'tls-uninspected',
      detail: `TLS flow ${f.clientIp}:${f.clientPort} -> ${f.serverIp}:${f.serverPort} SNI=${serverName ?? '(none)'} not inspected: a passive sniffer cannot decrypt TLS`,
    });
  }

  private startHttp(conv: FlowConversation): void {
    conv.requests = new HttpStreamParser('request', {
      head: (h) => this.requestHead(conv, h),
      body: (chunk) => this.requestBody(conv, chunk),
      end: (complete) => this.requestEnd(conv, complete),
      violation: (code, detail) => this.violation(conv, code, detail),
    }, this.parserLimits);
    conv.responses = new HttpStreamParser('response', {
      head: (h) => this.responseHead(conv, h),
      body: (chunk) => this.responseBody(conv, chunk),
      end: (complete) => this.responseEnd(conv, complete),
      violation: (code, detail) => this.violation(conv, code, detail),
    }, this.parserLimits);
  }

  private violation(conv: FlowConversation, code: string, detail: string): void {
    this.stats.violations++;
    const f = conv.flow;
    this.inspectors?.protocolViolation({
      id: nextRequestId(), serverGroup: conv.endpoint.group.name, peerIp: f.clientIp, clientIp: f.clientIp, reason: code, detail,
    });
  }

  private requestHead(conv: FlowConversation, h: MessageHead): void {
    if (conv.torn) return; // the rest of a chunk that held the blocked request
    this.stats.requests++;
    const f = conv.flow;
    const facts: RequestFacts = {
      id: nextRequestId(),
      serverGroup: conv.endpoint.group.name,
      peerIp: f.clientIp,
      peerPort: f.clientPort,
      clientIp: f.clientIp,
      localIp: f.serverIp,
      localPort: f.serverPort,
      tls: false,
      method: h.method,
      rawTarget: h.target,
      httpVersion: h.httpVersion,
      rawHeaders: h.rawHeaders,
      startedAt: this.now(),
    };
    const inspection = this.inspectors?.get(conv.endpoint.group.name)?.begin(facts) ?? null;
    const ex: Exchange = {
      facts, inspection, method: h.method, reqBody: [], reqBodyBytes: 0, reqBodyLimit: 0, reqBodyDone: inspection === null,
      status: 0, respEncoding: '', respBody: [], respBodyBytes: 0, respBodyLimit: 0, bytesIn: h.headBytes, bytesOut: 0,
      responseStarted: false, stoppedStatus: null,
    };
    conv.exchanges.push(ex);
    conv.responses!.expectResponseTo(h.method);
    if (inspection === null) return;
    if (!this.decide(conv, ex, inspection.requestHeaders())) return;
    ex.reqBodyLimit = inspection.requestBody.limit;
  }

  private requestBody(conv: FlowConversation, chunk: Buffer): void {
    const ex = conv.exchanges[conv.exchanges.length - 1];
    if (!ex) return;
    ex.bytesIn += chunk.length;
    if (ex.reqBodyDone) return;
    const room = ex.reqBodyLimit - ex.reqBodyBytes;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      ex.reqBody.push(Buffer.from(part));
      ex.reqBodyBytes += part.length;
    }
    if (chunk.length > room) {
      // Over the engine's limit: inspect the first `limit` bytes now (a sniffer cannot answer 413).
      this.requestBodyDone(conv, ex, false);
    }
  }

  private requestEnd(conv: FlowConversation, complete: boolean): void {
    const ex = conv.exchanges[conv.exchanges.length - 1];
    if (ex && !ex.reqBodyDone) this.requestBodyDone(conv, ex, complete);
  }

  private requestBodyDone(conv: FlowConversation, ex: Exchange, complete: boolean): void {
    ex.reqBodyDone = true;
    const body = ex.reqBody.length === 0 ? EMPTY : ex.reqBody.length === 1 ? ex.reqBody[0]! : Buffer.concat(ex.reqBody);
    ex.reqBody = [];
    if (ex.inspection) this.decide(conv, ex, ex.inspection.requestBodyDone(body, complete));
  }

  private responseHead(conv: FlowConversation, h: MessageHead): void {
    const ex = conv.exchanges[conv.respIndex];
    if (!ex || conv.torn) return; // a response to a request we did not see (capture started mid-flow)
    this.stats.responses++;
    ex.responseStarted = true;
    if (h.status === 101 || (ex.method === 'CONNECT' && h.status >= 200 && h.status < 300)) conv.opaque = true;
    ex.status = h.status;
    ex.bytesOut = h.headBytes;
    if (!ex.reqBodyDone) this.requestBodyDone(conv, ex, false);
    if (!ex.inspection || conv.torn || ex.stoppedStatus !== null) return;
    for (let i = 0; i < h.rawHeaders.length; i += 2) {
      if (h.rawHeaders[i]!.toLowerCase() === 'content-encoding') ex.respEncoding = h.rawHeaders[i + 1]!.trim().toLowerCase();
    }
    if (!this.decide(conv, ex, ex.inspection.responseHeaders({ status: h.status, rawHeaders: h.rawHeaders, httpVersion: h.httpVersion }))) return;
    ex.respBodyLimit = ex.inspection.responseBodyLimit;
  }

  private responseBody(conv: FlowConversation, chunk: Buffer): void {
    const ex = conv.exchanges[conv.respIndex];
    if (!ex || !ex.responseStarted) return;
    ex.bytesOut += chunk.length;
    // Compressed bodies are kept whole up to the limit and decoded at the end (the limit then
    // applies to the decoded size as well).
    const room = ex.respBodyLimit - ex.respBodyBytes;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      ex.respBody.push(Buffer.from(part));
      ex.respBodyBytes += part.length;
    }
  }

  private responseEnd(conv: FlowConversation, complete: boolean): void {
    const ex = conv.exchanges[conv.respIndex];
    if (!ex || !ex.responseStarted) return;
    conv.respIndex++;
    if (ex.inspection && ex.respBodyLimit > 0 && !conv.torn && ex.stoppedStatus === null) {
      let body = ex.respBody.length === 1 ? ex.respBody[0]! : Buffer.concat(ex.respBody);
      let whole = complete && ex.respBodyBytes < ex.respBodyLimit;
      if (ex.respEncoding !== '' && ex.respEncoding !== 'identity') {
        const decoded = this.decode(body, ex.respEncoding, ex.respBodyLimit);
        if (decoded) body = decoded;
        else whole = false;
      }
      this.decide(conv, ex, ex.inspection.responseBodyDone(body, whole));
    }
    ex.respBody = [];
    this.finishExchange(ex, null);
    // Finished exchanges leave the front of the list.
    const i = conv.exchanges.indexOf(ex);
    if (i >= 0) {
      conv.exchanges.splice(i, 1);
      conv.respIndex--;
    }
  }

  private decode(body: Buffer, encoding: string, limit: number): Buffer | null {
    // Z_SYNC_FLUSH: a body cut by the limit or a gap still yields what could be decoded.
    const opts = { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: Math.max(limit, 1) };
    try {
      if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(body, opts);
      if (encoding === 'deflate') {
        try {
          return inflateSync(body, opts);
        } catch {
          return inflateRawSync(body, opts);
        }
      }
      if (encoding === 'br') return brotliDecompressSync(body, { maxOutputLength: Math.max(limit, 1) });
    } catch {
      this.stats.decodeErrors++;
      return null;
    }
    this.stats.decodeErrors++;
    return null;
  }

  /** Applies a decision; false when the exchange must not go on (the flow was torn down). */
  private decide(conv: FlowConversation, ex: Exchange, d: Decision): boolean {
    if (d.kind === 'allow') return !conv.torn;
    ex.stoppedStatus = d.kind === 'drop' ? 0 : d.status;
    ex.reqBodyDone = true;
    ex.respBodyLimit = 0;
    if (conv.torn) return false;
    const tear = this.hooks.blocked({ flow: conv.flow, facts: ex.facts, decision: d });
    // Not torn down (replay): the request ends as the proxy would have answered it; later requests
    // of the flow are still inspected.
    if (!tear) return false;
    conv.torn = true;
    this.stats.blockedFlows++;
    // Every request of the flow ends now; the client and the server saw a reset.
    for (const e of conv.exchanges) this.finishExchange(e, 'connection reset by the gateway (TCP RST injected)', 0);
    conv.exchanges.length = 0;
    conv.respIndex = 0;
    return false;
  }

  private finishExchange(ex: Exchange, error: string | null, status?: number): void {
    if (!ex.inspection) return;
    const inspection = ex.inspection;
    (ex as { inspection: Inspection | null }).inspection = null;
    inspection.end({
      status: status ?? ex.stoppedStatus ?? ex.status,
      bytesIn: ex.bytesIn,
      bytesOut: ex.bytesOut,
      error,
      durationMs: Math.max(0, this.now() - ex.facts.startedAt),
    });
  }
}
