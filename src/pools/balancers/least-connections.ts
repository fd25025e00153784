/**
 * Least connections, weighted: the eligible server with the fewest requests in flight per unit of
 * weight. Ties rotate (a moving start index), so idle servers share the first requests of a burst
 * instead of the first one taking them all.
 */
import type { PoolServer } from '../pool-server.js';
import { eligible, type Balancer, type BalancerFactory } from './balancer.js';

export const leastConnections: BalancerFactory = (servers: readonly PoolServer[]): Balancer => {
  let start = 0;
  return {
    choose(now, _clientIp, tried) {
      const n = servers.length;
      let best: PoolServer | null = null;
      start = start + 1 >= n ? 0 : start + 1;
      for (let k = 0; k < n; k++) {
        const s = servers[(start + k) % n]!;
        if (!eligible(s, now, tried)) continue;
        // a.active / a.weight < b.active / b.weight, without division.
        if (best === null || s.active * best.weight < best.active * s.weight) best = s;
      }
      return best;
    },
  };
};
