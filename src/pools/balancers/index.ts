/** The load-balancing algorithms by their configuration name (`pool.algorithm`). */
import type { PoolAlgorithm } from '../../config/types.js';
import type { BalancerFactory } from './balancer.js';
import { clientIpHash } from './client-ip-hash.js';
import { leastConnections } from './least-connections.js';
import { weightedRoundRobin } from './weighted-round-robin.js';

export const BALANCERS: Readonly<Record<PoolAlgorithm, BalancerFactory>> = {
  'round-robin': weightedRoundRobin,
  'least-connections': leastConnections,
  'client-ip-hash': clientIpHash,
};

export type { Balancer, BalancerFactory } from './balancer.js';
