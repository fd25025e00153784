/**
 * Smooth weighted round-robin, as nginx does it: each pick adds every eligible server's weight to its
 * current weight, takes the largest, and subtracts the total from the winner. Weights 5:1:1 give
 * a a b a c a a — spread out, not a burst of five a's. A server that is down simply takes no part.
 */
import type { PoolServer } from '../pool-server.js';
import { eligible, type Balancer, type BalancerFactory } from './balancer.js';

export const weightedRoundRobin: BalancerFactory = (servers: readonly PoolServer[]): Balancer => ({
  choose(now, _clientIp, tried) {
    let best: PoolServer | null = null;
    let total = 0;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i]!;
      if (!eligible(s, now, tried)) continue;
      s.currentWeight += s.weight;
      total += s.weight;
      if (best === null || s.currentWeight > best.currentWeight) best = s;
    }
    if (best !== null) best.currentWeight -= total;
    return best;
  },
});
