/**
 * Upgrade relay (WebSocket and any other `Upgrade:` protocol). After the request head is checked, routed
 * and inspected (phase 1), the gateway opens a raw TCP or TLS connection to the upstream, writes the request
 * head with the forwarded headers, and pipes bytes both ways. The upstream's 101 answer and everything
 * after it pass through untouched: framing is the endpoints' business. `pipe()` gives back-pressure in
 * both directions.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ANSWERS, classifyUpstreamError, type FailureAnswer } from './failure-answers.js';
import { normalizePeerIp } from './forwarded.js';
import type { GatewayRequest } from './http1/types.js';
import type { Decision, Inspection } from './inspection.js';
import { checkHeadLimits, headerOf, hostOf, pathOf, upstreamRequestHeaders } from './request-head.js';
import { nextRequestId } from './request-id.js';
import type { RequestPipeline } from './request-pipeline.js';
import type { PoolPick, RouteLookup } from './route.js';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  302: 'Found', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Content Too Large',
  414: 'URI Too Long', 431: 'Request Header Fields Too Large', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Writes a complete HTTP/1.1 response on a raw socket and closes it. */
function writeRawResponse(socket: Duplex, status: number, headers: readonly string[], body: Buffer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]), () => socket.destroy());
}

export function relayUpgrade(pipeline: RequestPipeline, req: GatewayRequest, client: Duplex, head: Buffer,
  lookup: RouteLookup): void {
  const id = nextRequestId();
  const startedAt = Date.now();
  const t0 = performance.now();
  const socket = req.socket;
  const peerIp = normalizePeerIp(socket.remoteAddress);
  let clientIp = peerIp;
  const host = hostOf(req);
  const path = pathOf(req.url);
  let inspection: Inspection | null = null;
  let error: string | null = null;
  let status = 0;
  let upstreamMs: number | null = null;
  let upstream: Socket | TLSSocket | null = null;
  /** Pooled routes: the server this tunnel goes to (released when it ends). */
  let pick: PoolPick | null = null;
  let finished = false;
  let ruleIds: readonly string[] | undefined;
  // CONNECT's target is an authority (host:port), not a path: it routes by Host like a request for '/'.
  const route = lookup(host, req.method === 'CONNECT' ? '/' : path, req);
  pipeline.enter();

  const tunnel = { destroy: (): void => { client.destroy(); upstream?.destroy(); } };
  pipeline.tunnels.add(tunnel);

  const finish = (): void => {
    if (finished) return;
    finished = true;
    pipeline.tunnels.delete(tunnel);
    pick?.release();
    // The client is gone: a connect still in progress (or an open tunnel) has nobody left to serve.
    upstream?.destroy();
    const bytesIn = upstream === null ? 0 : upstream.bytesWritten;
    const bytesOut = upstream === null ? 0 : upstream.bytesRead;
    const durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
    if (inspection !== null) {
      try {
        inspection.end({ status, bytesIn, bytesOut, error, durationMs });
      } catch (err) {
        pipeline.logEngineError(socket, id, err);
      }
    }
    pipeline.logAccess(socket, {
      id, peerIp, clientIp, host, method: req.method ?? '', path, status, bytesIn, bytesOut,
      rule: route === null ? null : route.rule, upstream: route === null ? null : (pick?.upstream ?? route.upstream).label,
      durationMs, upstreamMs: upstreamMs === null ? null : Math.round(upstreamMs * 1000) / 1000, error,
      serverGroup: route === null ? null : route.serverGroup, ...(ruleIds !== undefined ? { ruleIds } : {}),
    });
    pipeline.leave();
  };
  if (client.destroyed) {
    finish();
    return;
  }
  client.once('close', finish);
  client.on('error', () => {
    if (error === null) error = 'client-aborted';
    upstream?.destroy();
  });

  const answer = (a: FailureAnswer): void => {
    error = a.reason;
    status = a.status;
    const headers = ['content-type', 'text/plain; charset=utf-8', ...pipeline.ruleIdsHeaderPair(inspection)];
    writeRawResponse(client, a.status, headers, a.body);
  };

  const enforce = (decision: Decision): void => {
    if (decision.kind === 'allow') return;
    ruleIds = decision.ruleIds;
    const ids = pipeline.ruleIdsHeaderPair(inspection);
    if (decision.kind === 'drop') {
      error = 'dropped';
      client.destroy();
    } else if (decision.kind === 'redirect') {
      error = 'redirected';
      status = decision.status > 0 ? decision.status : 302;
      writeRawResponse(client, status, ['location', decision.location, ...ids], Buffer.alloc(0));
    } else {
      error = 'blocked';
      const page = pipeline.blockPage;
      status = decision.status > 0 ? decision.status : page.status;
      writeRawResponse(client, status, ['content-type', page.contentType, ...ids],
        page.render(id, clientIp, decision.ruleIds));
    }
  };

  const overLimit = checkHeadLimits(req, pipeline.limits);
  if (overLimit !== null) return answer(overLimit);
  // CONNECT arrives here like an upgrade (llhttp treats it as one). A reverse proxy opens no tunnels to
  // arbitrary targets: refused with 405, after inspection when it routes, so rules still see it.
  const isConnect = req.method === 'CONNECT';
  if (route === null) return answer(ANSWERS[isConnect ? 'connect-not-supported' : 'no-matching-rule']);
  const fwd = route.forwarding;
  if (fwd.trustedHeader !== null) clientIp = fwd.clientIp(peerIp, headerOf(req, fwd.trustedHeader));
  if (route.requireClientCertificate && (socket as TLSSocket).authorized !== true) {
    return answer(ANSWERS['client-certificate-required']);
  }
  const inspector = pipeline.inspectors?.get(route.serverGroup);
  if (inspector !== undefined) {
    try {
      inspection = inspector.begin({
        id, serverGroup: route.serverGroup, peerIp, peerPort: socket.remotePort ?? 0, clientIp,
        localIp: normalizePeerIp(socket.localAddress), localPort: socket.localPort ?? 0,
        tls: (socket as TLSSocket).encrypted === true, method: req.method ?? 'GET', rawTarget: req.url ?? '/',
        httpVersion: req.httpVersion, rawHeaders: req.rawHeaders, startedAt,
      });
      if (inspection !== null) {
        const first = inspection.requestHeaders();
        if (first.kind !== 'allow') return enforce(first);
        // An upgrade request has no body; phase 2 sees an empty, complete one.
        const second = inspection.requestBodyDone(Buffer.alloc(0), true);
        if (second.kind !== 'allow') return enforce(second);
      }
    } catch (err) {
      pipeline.logEngineError(socket, id, err);
    }
  }

  if (isConnect) return answer(ANSWERS['connect-not-supported']);
  if (route.pool !== undefined) {
    pick = route.pool.pick(clientIp, req);
    if (pick === null) return answer(ANSWERS['no-healthy-server']);
  }
  const target = pick?.upstream ?? route.upstream;
  const tlsToServer = target.target.encrypt;
  const conn: Socket | TLSSocket = target.openSocket
    ? target.openSocket()
    : tlsToServer ? tlsConnect(target.socketOptions) : netConnect(target.socketOptions);
  upstream = conn;
  const connectStarted = performance.now();
  let connected = false;
  conn.setTimeout(pipeline.connectTimeoutMs, () => {
    if (connected) return;
    conn.destroy();
    if (!finished && client.writable) answer(ANSWERS['upstream-connect-timeout']);
  });
  conn.once(tlsToServer ? 'secureConnect' : 'connect', () => {
    connected = true;
    conn.setTimeout(0);
    const headers = upstreamRequestHeaders(req, route, peerIp, (socket as TLSSocket).encrypted === true, true);
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    conn.write(`${text}\r\n`, 'latin1');
    if (head.length > 0) conn.write(head);
    conn.once('data', (chunk: Buffer) => {
      upstreamMs = performance.now() - connectStarted;
      // "HTTP/1.1 101 …": the status for the log; the bytes themselves pass through untouched.
      const parsed = Number(chunk.toString('latin1', 9, 12));
      status = Number.isInteger(parsed) ? parsed : 0;
    });
    conn.pipe(client);
    client.pipe(conn);
  });
  conn.on('error', (err) => {
    if (!connected) {
      if (!finished && client.writable && error === null) answer(classifyUpstreamError(err));
      return;
    }
    if (error === null) error = 'upstream-reset';
    client.destroy();
  });
  conn.on('close', () => {
    if (connected) client.destroy();
  });
}
