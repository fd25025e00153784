/**
 * The pools of one mode runtime (one configuration): built with the runtime, their health checkers
 * started when it starts serving and stopped when it is retired. The health log outlives them: the
 * daemon hands the same ring to every configuration it loads.
 */
import type { GatewayRequest } from '../pipeline/http1/types.js';
import type { Logger } from 'pino';
import type { PoolMember, ServerPoolConfig } from '../config/types.js';
import type { Upstream } from '../pipeline/upstream-pools.js';
import { HealthChecker } from './health-checker.js';
import { HealthLog } from './health-log.js';
import type { PoolServer } from './pool-server.js';
import { ServerPool, type StateMemory } from './server-pool.js';

/**
 * Server verdicts per health log, i.e. per daemon process: the log is the one object the daemon hands
 * to every configuration, so the verdicts live beside it and survive reloads the same way.
 */
const memories = new WeakMap<HealthLog, StateMemory>();

export class PoolSet {
  readonly pools: ServerPool[] = [];
  private readonly checkers: HealthChecker[] = [];
  readonly healthLog: HealthLog;
  private readonly logger: Logger;
  private running = false;
  private readonly memory: StateMemory;

  constructor(logger: Logger, healthLog?: HealthLog) {
    this.logger = logger.child({ component: 'pools' });
    this.healthLog = healthLog ?? new HealthLog();
    let memory = memories.get(this.healthLog);
    if (memory === undefined) {
      memory = new Map();
      memories.set(this.healthLog, memory);
    }
    this.memory = memory;
  }

  /**
   * `upstreamFor` gives each server its connection pool (also used by its health checks);
   * `upstreamPerRequest`, when given, replaces it per request (see ServerPool).
   */
  add(name: string, config: ServerPoolConfig, upstreamFor: (member: PoolMember) => Upstream,
    upstreamPerRequest: ((server: PoolServer, req: GatewayRequest) => Upstream) | null = null): ServerPool {
    const pool = new ServerPool(name, config, upstreamFor, this.logger, upstreamPerRequest, this.memory);
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
    // Forget servers the configuration no longer has (the memory stays as large as one configuration).
    const current = new Set(this.pools.flatMap((p) => p.servers.map((s) => p.memoryKey(s))));
    for (const key of this.memory.keys()) if (!current.has(key)) this.memory.delete(key);
    for (const c of this.checkers) c.start();
  }

  stop(): void {
    this.running = false;
    for (const c of this.checkers) c.stop();
  }
}
