/**
 * Linux capability checks, read from /proc/self/status (CapEff), so the daemon can say up front which
 * capability is missing instead of failing on the first setsockopt().
 */
import { readFileSync } from 'node:fs';
import { PlatformError } from './platform-errors.js';

/** Capability numbers from <linux/capability.h>. */
export const CAPABILITY_BITS = {
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
} as const;

export type CapabilityName = keyof typeof CAPABILITY_BITS;

/** Parses the `CapEff:` line of a /proc/<pid>/status text; null when the line is absent (not Linux). */
export function parseEffectiveCapabilities(statusText: string): bigint | null {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  return m ? BigInt(`0x${m[1]}`) : null;
}

/** The effective capability mask of this process; null when it cannot be read (not Linux). */
export function effectiveCapabilities(statusFile = '/proc/self/status'): bigint | null {
  let text: string;
  try {
    text = readFileSync(statusFile, 'utf8');
  } catch {
    return null;
  }
  return parseEffectiveCapabilities(text);
}

export function hasCapability(mask: bigint, name: CapabilityName): boolean {
  return ((mask >> BigInt(CAPABILITY_BITS[name])) & 1n) === 1n;
}

/** The capabilities of `required` that `mask` lacks, in the order given. */
export function missingCapabilities(mask: bigint, required: readonly CapabilityName[]): CapabilityName[] {
  return required.filter((name) => !hasCapability(mask, name));
}

export const CAP_NET_ADMIN_MESSAGE =
  'IP_TRANSPARENT needs CAP_NET_ADMIN; run as root or with AmbientCapabilities=CAP_NET_ADMIN';
export const CAP_NET_BIND_SERVICE_MESSAGE =
  'binding a port below 1024 needs CAP_NET_BIND_SERVICE; run as root or with AmbientCapabilities=CAP_NET_BIND_SERVICE';

/**
 * Throws the typed error for the first missing capability that bridge mode needs: CAP_NET_ADMIN always
 * (IP_TRANSPARENT, SO_MARK), CAP_NET_BIND_SERVICE when a listener port is below 1024. Does nothing when
 * the mask cannot be read: the socket calls will then report the precise failure themselves.
 */
export function assertBridgeCapabilities(listenPorts: readonly number[], mask = effectiveCapabilities()): void {
  if (mask === null) return;
  if (!hasCapability(mask, 'CAP_NET_ADMIN')) {
    throw new PlatformError('ERR_CAP_NET_ADMIN', CAP_NET_ADMIN_MESSAGE, { errnoName: 'EPERM' });
  }
  const low = listenPorts.filter((p) => p > 0 && p < 1024);
  if (low.length > 0 && !hasCapability(mask, 'CAP_NET_BIND_SERVICE')) {
    throw new PlatformError(
      'ERR_CAP_NET_BIND_SERVICE',
      `${CAP_NET_BIND_SERVICE_MESSAGE} (ports ${low.join(', ')})`,
      { errnoName: 'EACCES' },
    );
  }
}
