/**
 * Upstreams whose connections come FROM the client's own address (bridge mode, `transparency:
 * client-ip`). A pooled connection keeps its source address, so there is one Http1Pool per (client
 * address, protected endpoint, upstream TLS name). Pools are created on a client's first request and
 * closed once idle: the table is bounded (least recently used idle pools go first) and swept on a timer,
 * so a scan from many addresses cannot grow it without end.
 */
import { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { buildConnector } from 'undici';
import type { Timeouts } from '../../config/types.js';
import { Http1Pool } from '../../pipeline/http1/upstream-client.js';
import type { Upstream, UpstreamDispatcher, UpstreamTarget } from '../../pipeline/upstream-pools.js';
import { openTransparentConnection, transparentConnector } from '../../platform/transparent-socket.js';

/** Pools per (client, endpoint, name) kept at most; beyond, idle ones are closed first. */
export const MAX_CLIENT_POOLS = 4096;
/** A pool unused for this long is closed by the sweep. */
export const CLIENT_POOL_IDLE_MS = 30_000;
/** Connections per client pool (one client seldom has more requests in flight to one server). */
export const MAX_CONNECTIONS_PER_CLIENT = 64;

interface Entry<R> {
  readonly upstream: Upstream;
  /** What the caller built around the upstream (the Route), cached with it. */
  readonly value: R;
  lastUsed: number;
}

export interface ClientSourcedOptions {
  readonly timeouts: Timeouts;
  /** SO_MARK on upstream sockets; 0 = none. */
  readonly mark: number;
  readonly maxPools?: number;
  readonly idleMs?: number;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export class ClientSourcedUpstreams<R> {
  private readonly entries = new Map<string, Entry<R>>();
  private readonly maxPools: number;
  private readonly idleMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: ClientSourcedOptions) {
    this.maxPools = options.maxPools ?? MAX_CLIENT_POOLS;
    this.idleMs = options.idleMs ?? CLIENT_POOL_IDLE_MS;
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(1000, Math.floor(this.idleMs / 2)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value for `key` (a string naming client, endpoint and TLS name), or a new one built by
   * `wrap` around a fresh pool whose connections are sourced from `clientIp`.
   */
  get(key: string, clientIp: string, target: UpstreamTarget, wrap: (upstream: Upstream) => R): R {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      hit.lastUsed = now;
      // Map order is the LRU order: move to the back.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    if (this.entries.size >= this.maxPools) this.evictIdle(this.entries.size - this.maxPools + 1);
    const upstream = this.createUpstream(key, clientIp, target);
    const entry: Entry<R> = { upstream, value: wrap(upstream), lastUsed: now };
    this.entries.set(key, entry);
    return entry.value;
  }

  private createUpstream(key: string, clientIp: string, target: UpstreamTarget): Upstream {
    const servername = target.serverName ?? undefined;
    const tlsOptions: ConnectionOptions = target.encrypt ? {
      rejectUnauthorized: target.validateServerCertificate,
      ...(target.ca !== null ? { ca: target.ca } : {}),
    } : {};
    const base = transparentConnector({
      localAddress: clientIp,
      mark: this.options.mark,
      timeoutMs: this.options.timeouts.connectMs,
      tls: tlsOptions,
    });
    // The TLS name is the one this pool was made for, never one derived from the client's Host.
    const connect: buildConnector.connector = (opts, callback) => {
      base({ ...opts, servername: servername as string }, callback);
    };
    const origin = `${target.encrypt ? 'https' : 'http'}://${hostForUrl(target.host)}:${target.port}`;
    const pool = new Http1Pool(origin, {
      connections: MAX_CONNECTIONS_PER_CLIENT,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: this.options.timeouts.upstreamHeadersMs,
      bodyTimeout: this.options.timeouts.idleMs,
      connect,
    });
    const socketOptions = { host: target.host, port: target.port, ...tlsOptions, ...(servername ? { servername } : {}) };
    const mark = this.options.mark;
    return {
      key,
      label: `${hostForUrl(target.host)}:${target.port}`,
      pool,
      target,
      dispatchServerName: target.encrypt ? servername : undefined,
      socketOptions,
      // Upgrade tunnels (WebSocket) come from the client's address too.
      openSocket(): Socket {
        let raw: Socket;
        try {
          raw = openTransparentConnection({ localAddress: clientIp, remoteAddress: target.host, remotePort: target.port, mark });
        } catch (err) {
          // Reported like a failed connect: as an 'error' event on a socket, after the caller subscribed.
          const failed = new Socket();
          process.nextTick(() => failed.destroy(err as Error));
          return failed;
        }
        return target.encrypt ? tlsConnect({ ...socketOptions, socket: raw }) : raw;
      },
    };
  }

  private static busy(pool: UpstreamDispatcher): boolean {
    const s = pool.stats;
    return s.running > 0 || s.pending > 0 || s.queued > 0;
  }

  /** Closes up to `count` idle pools, least recently used first. */
  private evictIdle(count: number): void {
    let left = count;
    for (const [key, entry] of this.entries) {
      if (left <= 0) break;
      if (ClientSourcedUpstreams.busy(entry.upstream.pool)) continue;
      this.entries.delete(key);
      void entry.upstream.pool.close().catch(() => undefined);
      left--;
    }
  }

  /** Closes pools unused for idleMs (called by the timer; exposed for tests). */
  sweep(now: number): number {
    let closed = 0;
    for (const [key, entry] of this.entries) {
      if (now - entry.lastUsed < this.idleMs) break; // LRU order: the rest are younger
      if (ClientSourcedUpstreams.busy(entry.upstream.pool)) continue;
      this.entries.delete(key);
      void entry.upstream.pool.close().catch(() => undefined);
      closed++;
    }
    return closed;
  }

  /** Graceful: queued requests finish, then keep-alive sockets close. */
  async close(): Promise<void> {
    this.stop();
    await Promise.all([...this.entries.values()].map((e) => e.upstream.pool.close()));
    this.entries.clear();
  }

  async destroy(): Promise<void> {
    this.stop();
    await Promise.all([...this.entries.values()].map((e) => e.upstream.pool.destroy()));
    this.entries.clear();
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
  }
}
