/**
 * Test rig for pools: real origins on 127.0.0.1:0 that say who they are, an alias runtime with one
 * pooled rule hosted on a real listener (the gateway's HTTP/1.1 front end) (with its health checks started, as the daemon does), and a
 * keep-alive client to put load on it.
 */
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { OutboundRule, PoolMember, ServerPoolConfig } from '../../src/config/types.js';
import type { ModeRuntime } from '../../src/daemon/runtime.js';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { createHttp1Server } from '../../src/pipeline/http1/server.js';
import { HealthLog } from '../../src/pools/health-log.js';
import { outbound, singleServiceConfig } from '../pipeline/config-builder.js';
import { captureLogs, type LogCapture } from '../pipeline/harness.js';

const POS = { file: '/test/pools.yaml', line: 1, col: 1 };

export interface Origin {
  readonly name: string;
  port: number;
  served: number;
  /** Status of /healthz (200 unless a test says otherwise). */
  health: number;
  /** Delay before answering anything but /healthz. */
  delayMs: number;
  /** Answers in progress (not /healthz). */
  inFlight: number;
  server: Server;
  /** Stops listening and resets every connection, requests in flight included (a crash). */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  revive(): Promise<void>;
}

export async function startOrigins(names: readonly string[]): Promise<Origin[]> {
  return Promise.all(names.map((name) => startNamedOrigin(name)));
}

async function startNamedOrigin(name: string): Promise<Origin> {
  const origin: Origin = {
    name, port: 0, served: 0, health: 200, delayMs: 0, inFlight: 0, server: null as unknown as Server,
    async kill() {
      origin.server.close();
      origin.server.closeAllConnections();
      await once(origin.server, 'close');
    },
    async revive() {
      origin.server = makeServer();
      origin.server.listen(origin.port, '127.0.0.1');
      await once(origin.server, 'listening');
    },
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/healthz') {
      res.writeHead(origin.health, { 'content-length': '0' });
      res.end();
      return;
    }
    origin.inFlight++;
    const answer = (): void => {
      origin.inFlight--;
      origin.served++;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(name) });
      res.end(name);
    };
    req.resume();
    req.on('end', () => (origin.delayMs > 0 ? setTimeout(answer, origin.delayMs) : setImmediate(answer)));
  };
  const makeServer = (): Server => {
    const server = createServer({ keepAliveTimeout: 5000 }, handler);
    // Upgrades: a 101, then the origin's name, then the tunnel stays open until the client closes it.
    server.on('upgrade', (_req, socket: Duplex) => {
      origin.served++;
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n${name}`);
      socket.on('error', () => {});
      socket.on('end', () => socket.end());
    });
    return server;
  };
  origin.server = makeServer();
  origin.server.listen(0, '127.0.0.1');
  await once(origin.server, 'listening');
  origin.port = (origin.server.address() as AddressInfo).port;
  return origin;
}

export function member(port: number, options: Partial<PoolMember> = {}): PoolMember {
  return { address: '127.0.0.1', port, weight: 1, backup: false, pos: POS, ...options };
}

export function poolConfig(servers: readonly PoolMember[], options: Partial<ServerPoolConfig> = {}): ServerPoolConfig {
  return { algorithm: 'round-robin', servers, stickyCookie: null, healthCheck: null,
    passive: { failures: 1, downForMs: 60_000 }, pos: POS, ...options };
}

export interface PoolGateway {
  readonly port: number;
  readonly logs: LogCapture;
  readonly healthLog: HealthLog;
  readonly runtime: ModeRuntime;
  close(): Promise<void>;
}

/** The alias runtime with one rule whose pool is `pool`, on a real listener. */
export async function startPoolGateway(pool: ServerPoolConfig, connectMs = 1000, rule: Partial<OutboundRule> = {}): Promise<PoolGateway> {
  const first = pool.servers[0]!;
  const config = singleServiceConfig(8080, [outbound({ priority: 10, serverIp: first.address, serverPort: first.port, pool, ...rule })],
    { timeouts: { connectMs, shutdownGraceMs: 1000 } });
  const logs = captureLogs();
  const healthLog = new HealthLog();
  const runtime = createAliasRuntime(config, { logger: logs.logger, inspectors: null, healthLog });
  await runtime.start?.();
  const spec = runtime.listeners[0]!;
  // The gateway's own HTTP/1.1 front end, as the daemon hosts listeners (the origins stay node:http).
  const { server, front } = createHttp1Server({ maxHeaderSize: 16384, headersTimeout: 30_000, keepAliveTimeout: 5000 }, {
    onRequest: spec.onRequest,
    onUpgrade: spec.onUpgrade,
    onClientError: (_err, socket) => socket.destroy(),
    onBug: (err, where) => logs.logger.error({ err, where }, 'front end bug'),
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    logs,
    healthLog,
    runtime,
    async close() {
      server.close();
      front.closeAllConnections();
      await runtime.close(500);
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

export function fetchVia(port: number, agent: Agent | false, headers: Record<string, string> = {}, path = '/',
  host = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `count` requests, `concurrency` at a time, over one keep-alive agent; every answer (or error) in order. */
export async function load(port: number, count: number, concurrency: number, host = '127.0.0.1'): Promise<Array<Answer | Error>> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const out: Array<Answer | Error> = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fetchVia(port, agent, {}, '/', host).catch((err: Error) => err);
    }
  }));
  agent.destroy();
  return out;
}

export function tally(answers: ReadonlyArray<Answer | Error>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = a instanceof Error ? `error ${(a as NodeJS.ErrnoException).code ?? a.message}` : a.status === 200 ? a.body : `status ${a.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** An upgrade request through the gateway; resolves with what the tunnel carried after the 101 head. */
export function upgradeVia(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0 && text.length > end + 4) {
        socket.end();
        resolve(text.startsWith('HTTP/1.1 101') ? text.slice(end + 4) : `status ${text.slice(9, 12)}`);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text.startsWith('HTTP/1.1 101') ? text : `status ${text.slice(9, 12)}`));
    socket.write('GET /ws HTTP/1.1\r\nHost: pool.test\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
  });
}
