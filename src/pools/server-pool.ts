/**
 * A pool of servers behind one route: picks a server per request (sticky cookie first, then the
 * algorithm over the usable primaries, then over the usable backups), counts requests in flight, and
 * keeps the passive health verdicts. Server state changes are logged as events in the main log.
 *
 * Built once per configuration by a PoolSet; `pick` and `retry` run per request.
 */
import type { GatewayRequest } from '../pipeline/http1/types.js';
import { headerOf } from '../pipeline/request-head.js';
import type { Logger } from 'pino';
import type { PoolMember, ServerPoolConfig } from '../config/types.js';
import type { PoolPick, RoutePool } from '../pipeline/route.js';
import type { Upstream } from '../pipeline/upstream-pools.js';
import { BALANCERS, type Balancer } from './balancers/index.js';
import { PoolServer } from './pool-server.js';
import { cookieValue, setCookieValue } from './sticky-cookie.js';

/** Why a server went in or out; logged with the event. */
export type ServerStateReason = 'health-check' | 'passive';

/** A server's verdicts, remembered across reloads by pool name and server (see PoolSet). */
export interface RememberedState {
  up: boolean;
  passiveDownUntil: number;
}
export type StateMemory = Map<string, RememberedState>;

export class ServerPool implements RoutePool {
  /** Primaries first, then backups (the configuration's order). */
  readonly servers: readonly PoolServer[];
  private readonly primaries: Balancer;
  private readonly backups: Balancer | null;
  private readonly stickyCookie: string | null;
  private readonly byCookieId = new Map<string, PoolServer>();
  private readonly setCookies: readonly string[];

  constructor(
    /** For logs: where the pool is declared, e.g. "shop/web rule 10". */
    readonly name: string,
    readonly config: ServerPoolConfig,
    upstreamFor: (member: PoolMember) => Upstream,
    private readonly logger: Logger,
    /**
     * The connection pool for a chosen server and this request, when it is not always the server's own
     * (bridge mode with client-ip transparency: one per client address).
     */
    private readonly upstreamPerRequest: ((server: PoolServer, req: GatewayRequest) => Upstream) | null = null,
    private readonly memory: StateMemory | null = null,
  ) {
    this.servers = config.servers.map((m, i) => new PoolServer(m, upstreamFor(m), i));
    // A reload keeps what is known: a server that was down stays down until its checks bring it back.
    for (const s of this.servers) {
      const known = memory?.get(this.memoryKey(s));
      if (known === undefined) continue;
      s.up = config.healthCheck === null ? true : known.up;
      s.passiveDownUntil = known.passiveDownUntil;
    }
    const factory = BALANCERS[config.algorithm];
    this.primaries = factory(this.servers.filter((s) => !s.backup));
    const backups = this.servers.filter((s) => s.backup);
    this.backups = backups.length > 0 ? factory(backups) : null;
    this.stickyCookie = config.stickyCookie;
    for (const s of this.servers) this.byCookieId.set(s.cookieId, s);
    this.setCookies = this.servers.map((s) => (config.stickyCookie === null ? '' : setCookieValue(config.stickyCookie, s.cookieId)));
  }

  pick(clientIp: string, req: GatewayRequest): PoolPick | null {
    return this.choose(clientIp, req, null);
  }

  retry(failed: PoolPick, reason: string, clientIp: string, req: GatewayRequest): PoolPick | null {
    const previous = failed as ServerPick;
    previous.release();
    this.noteFailure(previous.server, reason);
    const tried = previous.tried ?? new Set<PoolServer>();
    tried.add(previous.server);
    if (tried.size >= this.servers.length) return null;
    return this.choose(clientIp, req, tried);
  }

  private choose(clientIp: string, req: GatewayRequest, tried: Set<PoolServer> | null): PoolPick | null {
    const now = Date.now();
    let server: PoolServer | null = null;
    let setCookie: string | null = null;
    if (this.stickyCookie !== null) {
      const id = cookieValue(headerOf(req, 'cookie'), this.stickyCookie);
      const pinned = id === null ? undefined : this.byCookieId.get(id);
      if (pinned !== undefined && pinned.usable(now) && (tried === null || !tried.has(pinned))) server = pinned;
    }
    if (server === null) {
      server = this.primaries.choose(now, clientIp, tried) ?? this.backups?.choose(now, clientIp, tried) ?? null;
      if (server === null) return null;
      if (this.stickyCookie !== null) setCookie = this.setCookies[server.index]!;
    }
    server.active++;
    const upstream = this.upstreamPerRequest === null ? server.upstream : this.upstreamPerRequest(server, req);
    return new ServerPick(this, server, upstream, setCookie, tried);
  }

  memoryKey(server: PoolServer): string {
    return `${this.name}|${server.label}`;
  }

  private remember(server: PoolServer): void {
    this.memory?.set(this.memoryKey(server), { up: server.up, passiveDownUntil: server.passiveDownUntil });
  }

  /** Passive health: a connect failure or a 5xx answer. */
  noteFailure(server: PoolServer, reason: string): void {
    const { failures, downForMs } = this.config.passive;
    if (failures === 0) return;
    server.passiveFailures++;
    if (server.passiveFailures < failures) return;
    const now = Date.now();
    const wasUsable = server.usable(now);
    server.passiveFailures = 0;
    server.passiveDownUntil = now + downForMs;
    this.remember(server);
    if (wasUsable) {
      this.logger.warn({ event: 'server-down', pool: this.name, server: server.label, reason: 'passive', detail: reason, forMs: downForMs },
        `pool server ${server.label} down: ${failures} consecutive failures (last: ${reason}); no new requests for ${downForMs} ms`);
    }
  }

  /** Passive health: an answer below 500. */
  noteSuccess(server: PoolServer): void {
    server.passiveFailures = 0;
    if (server.passiveDownUntil !== 0 && Date.now() >= server.passiveDownUntil) {
      server.passiveDownUntil = 0;
      this.remember(server);
      if (server.up) {
        this.logger.info({ event: 'server-up', pool: this.name, server: server.label, reason: 'passive' },
          `pool server ${server.label} up: answered again after its passive hold`);
      }
    }
  }

  /** Active health: the checker's rise/fall verdict changed. */
  setActiveState(server: PoolServer, up: boolean, detail: string): void {
    if (server.up === up) return;
    server.up = up;
    this.remember(server);
    const fields = { event: up ? 'server-up' : 'server-down', pool: this.name, server: server.label, reason: 'health-check', detail };
    if (up) this.logger.info(fields, `pool server ${server.label} up (health check: ${detail})`);
    else this.logger.warn(fields, `pool server ${server.label} down (health check: ${detail}); requests in flight finish`);
  }
}

class ServerPick implements PoolPick {
  readonly upstream: Upstream;
  private released = false;

  constructor(private readonly pool: ServerPool, readonly server: PoolServer, upstream: Upstream,
    readonly setCookie: string | null, readonly tried: Set<PoolServer> | null) {
    this.upstream = upstream;
  }

  responded(status: number): void {
    if (status >= 500) this.pool.noteFailure(this.server, `status ${status}`);
    else this.pool.noteSuccess(this.server);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.server.active--;
  }
}
