/**
 * The pools of one mode runtime (one configuration): built with the runtime, their health checkers
 * started when it starts serving and stopped when it is retired. The health log outlives them: the
 * daemon hands the same ring to every configuration it loads.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { PoolMember, ServerPoolConfig } from '../config/types.js';
import type { Upstream } from '../pipeline/upstream-pools.js';
import { HealthChecker } from './health-checker.js';
import { HealthLog } from './health-log.js';
import type { PoolServer } from './pool-server.js';
import { ServerPool } from './server-pool.js';

export class PoolSet {
  readonly pools: ServerPool[] = [];
  private readonly checkers: HealthChecker[] = [];
  readonly healthLog: HealthLog;
  private readonly logger: Logger;
  private running = false;

  constructor(logger: Logger, healthLog?: HealthLog) {
    this.logger = logger.child({ component: 'pools' });
    this.healthLog = healthLog ?? new HealthLog();
  }

  /**
   * `upstreamFor` gives each server its connection pool (also used by its health checks);
   * `upstreamPerRequest`, when given, replaces it per request (see ServerPool).
   */
  add(name: string, config: ServerPoolConfig, upstreamFor: (member: PoolMember) => Upstream,
    upstreamPerRequest: ((server: PoolServer, req: IncomingMessage) => Upstream) | null = null): ServerPool {
    const pool = new ServerPool(name, config, upstreamFor, this.logger, upstreamPerRequest);
    this.pools.push(pool);
    if (config.healthCheck !== null) {
      for (const server of pool.servers) this.checkers.push(new HealthChecker(pool, server, config.healthCheck, this.healthLog));
    }
    if (this.running) for (const c of this.checkers) c.start();
    return pool;
  }

  get size(): number {
    return this.pools.length;
  }

  start(): void {
    this.running = true;
    for (const c of this.checkers) c.start();
  }

  stop(): void {
    this.running = false;
    for (const c of this.checkers) c.stop();
  }
}
