/**
 * Bridge mode: a service's pool applies to each of its protected endpoints (server address × port).
 * The original destination stays the first primary, so traffic only moves where the configuration
 * names other servers — typically a standby with `backup: true`, used while the destination is down.
 */
import { isIP } from 'node:net';
import type { PoolMember, ServerPoolConfig } from '../config/types.js';

/** The pool of one endpoint: the destination first, then the configured servers (port 0 = the destination's). */
export function endpointPool(address: string, port: number, pool: ServerPoolConfig): ServerPoolConfig {
  const destination: PoolMember = { address, port, weight: 1, backup: false, pos: pool.pos };
  const same = (a: string, b: string): boolean => a === b || (isIP(a) === 6 && isIP(b) === 6 && expand(a) === expand(b));
  const others = pool.servers
    .map((m) => (m.port === 0 ? { ...m, port } : m))
    .filter((m) => !(same(m.address, address) && m.port === port));
  const servers = [destination, ...others.filter((m) => !m.backup), ...others.filter((m) => m.backup)];
  return { ...pool, servers };
}

/** Full form of an IPv6 literal, so fd00::10 and fd00:0:0::10 compare equal. */
function expand(v6: string): string {
  const [head, tail] = v6.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':');
}
