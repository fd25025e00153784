/**
 * Consistent hashing on the real client IP (ketama-like): each server owns 160 × weight points on a
 * 32-bit ring, built once at load. A client goes to the owner of the first point at or after the hash
 * of its address; when that server is down, the walk continues clockwise, so only the clients of the
 * missing server move, and they come back when it returns.
 */
import { hash32 } from '../pool-hash.js';
import type { PoolServer } from '../pool-server.js';
import { eligible, type Balancer, type BalancerFactory } from './balancer.js';

const POINTS_PER_WEIGHT = 160;

export const clientIpHash: BalancerFactory = (servers: readonly PoolServer[]): Balancer => {
  const points: Array<{ hash: number; server: PoolServer }> = [];
  for (const s of servers) {
    for (let i = 0; i < POINTS_PER_WEIGHT * s.weight; i++) points.push({ hash: hash32(`${s.label}-${i}`), server: s });
  }
  points.sort((a, b) => a.hash - b.hash || a.server.index - b.server.index);
  const hashes = Uint32Array.from(points, (p) => p.hash);
  const owners = points.map((p) => p.server);
  return {
    choose(now, clientIp, tried) {
      const n = hashes.length;
      if (n === 0) return null;
      const h = hash32(clientIp);
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (hashes[mid]! < h) lo = mid + 1;
        else hi = mid;
      }
      for (let k = 0; k < n; k++) {
        const s = owners[(lo + k) % n]!;
        if (eligible(s, now, tried)) return s;
      }
      return null;
    },
  };
};
