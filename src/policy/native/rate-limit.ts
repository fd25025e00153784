/**
 * rateLimit: a token bucket per real client IP. Each request takes one token; buckets refill at
 * requestsPerSecond up to `burst`. The bucket map is bounded (least recently seen client evicted), so
 * a flood of distinct source addresses cannot grow memory without limit.
 */
import type { RateLimit } from '../../config/types.js';
import { NATIVE_IDS, type NativePolicy } from './native-policy.js';

interface Bucket {
  tokens: number;
  at: number;
}

export const RATE_LIMIT_MAX_CLIENTS = 100_000;

export function rateLimitPolicy(cfg: RateLimit, maxClients = RATE_LIMIT_MAX_CLIENTS): NativePolicy & { clear(): void; readonly size: number } {
  const buckets = new Map<string, Bucket>();
  const rate = cfg.requestsPerSecond;
  const burst = Math.max(1, cfg.burst);
  return {
    id: NATIVE_IDS.rateLimit,
    name: 'rate-limit',
    get size() {
      return buckets.size;
    },
    clear: () => buckets.clear(),
    checkHead(req) {
      let b = buckets.get(req.clientIp);
      if (b) {
        buckets.delete(req.clientIp); // re-insert below: Map order is the LRU order
        b.tokens = Math.min(burst, b.tokens + ((req.now - b.at) / 1000) * rate);
        b.at = req.now;
      } else {
        b = { tokens: burst, at: req.now };
        if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value as string);
      }
      buckets.set(req.clientIp, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return null;
      }
      return {
        policyId: NATIVE_IDS.rateLimit,
        policyName: 'rate-limit',
        msg: `Client exceeded ${rate} requests/s (burst ${burst})`,
        matched: req.clientIp,
        action: cfg.action,
        status: cfg.status,
      };
    },
  };
}
