/**
 * Hosts a ModeRuntime's listeners on the gateway's own HTTP/1.1 front end (src/pipeline/http1/server.ts),
 * plain or TLS, bound to 127.0.0.1:0 (the daemon does the same on the configured ports), captures log
 * lines, and provides small origins (node:http) and clients.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders,
  type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Server as NetServer } from 'node:net';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { GatewayConfig } from '../../src/config/types.js';
import type { ModeRuntime, ModeRuntimeFactory } from '../../src/daemon/runtime.js';
import { clientErrorHandler, frontEndOptions } from '../../src/pipeline/http-server-options.js';
import { createHttp1Server } from '../../src/pipeline/http1/server.js';
import type { InspectorSet } from '../../src/pipeline/inspection.js';

export interface LogCapture {
  readonly logger: Logger;
  readonly lines: Array<Record<string, unknown>>;
  /** Access lines (msg 'request' or 'request failed'). */
  access(): Array<Record<string, unknown>>;
}

export function captureLogs(): LogCapture {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.length > 0) lines.push(JSON.parse(line));
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  return { logger, lines, access: () => lines.filter((l) => l.msg === 'request' || l.msg === 'request failed') };
}

export interface Gateway {
  readonly runtime: ModeRuntime;
  readonly logs: LogCapture;
  /** Actual port of the listener whose key is `${address}:${configuredPort}`. */
  port(configuredPort: number, address?: string): number;
  close(): Promise<void>;
}

export async function startGateway(factory: ModeRuntimeFactory, config: GatewayConfig,
  inspectors: InspectorSet | null = null): Promise<Gateway> {
  const logs = captureLogs();
  const deps = { logger: logs.logger, inspectors };
  const runtime = factory(config, deps);
  const servers: Array<{ server: NetServer; closeAll(): void }> = [];
  const ports = new Map<string, number>();
  const onClientError = clientErrorHandler(deps);
  for (const spec of runtime.listeners) {
    const tls = spec.tls;
    const { server, front } = createHttp1Server(frontEndOptions(config), {
      onRequest: spec.onRequest,
      onUpgrade: spec.onUpgrade,
      onClientError,
      onBug: (err, where) => logs.logger.error({ err, where }, 'front end bug'),
    }, tls === null ? null : {
      ...tls.defaultContextOptions,
      requestCert: tls.requestCert,
      rejectUnauthorized: tls.rejectUnauthorized,
      SNICallback: (name, cb) => cb(null, tls.contextFor(name)),
    });
    servers.push({ server, closeAll: () => front.closeAllConnections() });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    ports.set(spec.key, (server.address() as AddressInfo).port);
  }
  return {
    runtime,
    logs,
    port(configuredPort, address = '127.0.0.1') {
      const p = ports.get(`${address}:${configuredPort}`);
      if (p === undefined) throw new Error(`no listener ${address}:${configuredPort}; have ${[...ports.keys()].join(', ')}`);
      return p;
    },
    async close() {
      for (const s of servers) {
        s.server.close();
        s.closeAll();
      }
      await runtime.close(1000);
    },
  };
}

/** A plain HTTP origin on 127.0.0.1:0. */
export async function startOrigin(handler: RequestListener): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createHttpServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly bodyBytes: number;
  readonly complete: boolean;
  readonly name: string;
}

/** An origin that answers JSON describing the request it saw, and records each request. */
export async function startEchoOrigin(name: string) {
  const seen: SeenRequest[] = [];
  const origin = await startOrigin((req, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => { bodyBytes += c.length; });
    req.on('end', () => {
      const entry: SeenRequest = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders,
        bodyBytes, complete: true, name };
      seen.push(entry);
      const body = JSON.stringify(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    req.on('aborted', () => seen.push({ method: req.method!, url: req.url!, headers: req.headers,
      rawHeaders: req.rawHeaders, bodyBytes, complete: false, name }));
  });
  return { ...origin, seen };
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export function readResponse(res: IncomingMessage): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    res.on('error', reject);
  });
}

/** One HTTP request through a fresh connection (agent: false). */
export function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET',
  body?: string | Buffer): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      readResponse(res).then(resolve, reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes raw bytes on a TCP connection and returns everything the server sent until it closed. */
export function rawExchange(port: number, bytes: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { socket.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => { clearTimeout(timer); if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1')); else reject(err); });
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')); });
    socket.write(bytes, 'latin1');
  });
}

/** Waits until `predicate` holds (log lines are written asynchronously). */
export async function eventually(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
