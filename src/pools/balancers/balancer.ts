/**
 * A load-balancing algorithm over one tier of a pool (the primaries, or the backups). Built once per
 * configuration; `choose` runs per request and allocates nothing.
 */
import type { PoolServer } from '../pool-server.js';

export interface Balancer {
  /**
   * A server that is usable at `now` and not in `tried` (servers this request already failed to
   * connect to), or null when there is none.
   */
  choose(now: number, clientIp: string, tried: ReadonlySet<PoolServer> | null): PoolServer | null;
}

export type BalancerFactory = (servers: readonly PoolServer[]) => Balancer;

export function eligible(server: PoolServer, now: number, tried: ReadonlySet<PoolServer> | null): boolean {
  return server.usable(now) && (tried === null || !tried.has(server));
}
