/**
 * Active HTTP(S) health checks of one pool server: a GET of the configured URL every `intervalMs` on a
 * fresh connection (no keep-alive: each check proves that a connection gateway → server can be made),
 * with the optional Host header, bounded by `timeoutMs`. Every check is one entry in the health log;
 * `fall` consecutive failures take the server down, `rise` consecutive successes bring it back.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HealthCheckConfig } from '../config/types.js';
import type { HealthLog } from './health-log.js';
import type { PoolServer } from './pool-server.js';
import type { ServerPool } from './server-pool.js';

export class HealthChecker {
  private timer: NodeJS.Timeout | null = null;
  private request: http.ClientRequest | null = null;
  private stopped = true;
  private successes = 0;
  private failures = 0;
  /** The URL as the health log shows it. */
  readonly url: string;

  constructor(
    private readonly pool: ServerPool,
    private readonly server: PoolServer,
    private readonly check: HealthCheckConfig,
    private readonly log: HealthLog,
  ) {
    this.url = `${server.upstream.target.encrypt ? 'https' : 'http'}://${server.label}${check.url}`;
  }

  /** The first check runs at once (at a small random offset, so a pool's servers are not probed in lockstep). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(Math.floor(Math.random() * Math.min(100, this.check.intervalMs)));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.request?.destroy();
    this.request = null;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(this.run, delayMs);
    this.timer.unref();
  }

  private readonly run = (): void => {
    this.timer = null;
    const { check, server } = this;
    const time = Date.now();
    const t0 = performance.now();
    const target = server.upstream.socketOptions;
    let gateway = '';
    let settled = false;
    const finish = (status: number | null, error: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.request = null;
      // stop() aborted this check: it says nothing about the server.
      if (this.stopped) return;
      const ok = status !== null && status >= check.expectStatus.min && status <= check.expectStatus.max;
      this.log.append({
        time, gateway, server: server.label, url: this.url, status, error, ok,
        latencyMs: Math.round((performance.now() - t0) * 1000) / 1000,
      });
      this.verdict(ok, status !== null ? `status ${status}` : error ?? 'no answer');
      this.schedule(check.intervalMs);
    };
    const options: https.RequestOptions = {
      ...(server.upstream.target.encrypt ? target : {}),
      host: target.host,
      port: target.port,
      path: check.url,
      method: 'GET',
      agent: false,
      headers: { host: check.host ?? server.label, 'user-agent': 'portcullis-health-check', connection: 'close' },
    };
    const req = (server.upstream.target.encrypt ? https : http).request(options);
    this.request = req;
    const deadline = setTimeout(() => {
      finish(null, `timeout after ${check.timeoutMs} ms`);
      req.destroy();
    }, check.timeoutMs);
    req.on('socket', (socket: Socket) => {
      const note = (): void => {
        if (socket.localAddress !== undefined) gateway = `${socket.localAddress.includes(':') ? `[${socket.localAddress}]` : socket.localAddress}:${socket.localPort}`;
      };
      socket.once('connect', note);
    });
    req.on('response', (res) => {
      finish(res.statusCode ?? null, null);
      res.resume();
      res.on('error', () => {});
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(null, err.code ?? err.message));
    req.end();
  };

  private verdict(ok: boolean, detail: string): void {
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (!this.server.up && this.successes >= this.check.rise) this.pool.setActiveState(this.server, true, detail);
    } else {
      this.successes = 0;
      this.failures++;
      if (this.server.up && this.failures >= this.check.fall) this.pool.setActiveState(this.server, false, detail);
    }
  }
}
