/**
 * The real client IP and the X-Forwarded-* headers toward the upstream.
 *
 * A forwarded header is only as trustworthy as whoever wrote it: any client can send
 * `X-Forwarded-For: 1.2.3.4`. We believe the header only when the TCP peer is one of the configured
 * trusted proxies (CIDRs compiled once into a node BlockList), and then take the last hop that is not
 * itself a trusted proxy, since everything left of it was written by parties we cannot vouch for.
 */
import { BlockList, isIP } from 'node:net';
import type { ForwardedClientIp, ForwardedConnections } from '../config/types.js';

export class ForwardingConfigError extends Error {
  readonly code = 'FORWARDING_CONFIG_INVALID';
}

/** "::ffff:10.0.0.1" (IPv4 on a dual-stack socket) → "10.0.0.1", so that IPv4 CIDRs match it. */
export function normalizePeerIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.indexOf('.') > 0 ? address.slice(7) : address;
}

function compileCidrs(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/');
    const address = slash < 0 ? cidr : cidr.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new ForwardingConfigError(`not an IP address or CIDR: ${cidr}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const prefix = slash < 0 ? (family === 4 ? 32 : 128) : Number(cidr.slice(slash + 1));
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
      throw new ForwardingConfigError(`bad prefix length in ${cidr}`);
    }
    list.addSubnet(address, prefix, type);
  }
  return list;
}

/** Compiled from a service's `forwardedConnections` and `forwardedClientIp` at runtime creation. */
export class ForwardingPolicy {
  /** Lower-case name of the header that carries the client IP from trusted proxies; null = never trusted. */
  readonly trustedHeader: string | null;
  private readonly trusted: BlockList | null;
  /** Lower-case name of the header we write toward the upstream; null = none. */
  readonly outgoingForHeader: string | null;
  readonly addProto: boolean;
  readonly addHost: boolean;

  constructor(connections: ForwardedConnections | null, clientIp: ForwardedClientIp) {
    this.trustedHeader = connections === null ? null : connections.headerLower;
    this.trusted = connections === null || connections.trustedProxies.length === 0
      ? null : compileCidrs(connections.trustedProxies);
    this.outgoingForHeader = clientIp.enabled ? clientIp.header.toLowerCase() : null;
    this.addProto = clientIp.enabled && clientIp.addProto;
    this.addHost = clientIp.enabled && clientIp.addHost;
  }

  isTrustedProxy(ip: string): boolean {
    if (this.trusted === null || ip.length === 0) return false;
    return this.trusted.check(ip, ip.indexOf(':') >= 0 ? 'ipv6' : 'ipv4');
  }

  /**
   * The real client IP: the peer, unless the peer is a trusted proxy and sent the configured header, in
   * which case the right-most entry that is not a trusted proxy (or the left-most when all are trusted).
   * A malformed entry stops the walk: what lies left of garbage is not evidence.
   */
  clientIp(peerIp: string, headerValue: string | string[] | undefined): string {
    if (this.trustedHeader === null || headerValue === undefined || !this.isTrustedProxy(peerIp)) return peerIp;
    const joined = typeof headerValue === 'string' ? headerValue : headerValue.join(',');
    const hops = joined.split(',');
    let candidate = peerIp;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizePeerIp(stripPort(hops[i]!.trim()));
      if (isIP(hop) === 0) break;
      candidate = hop;
      if (!this.isTrustedProxy(hop)) break;
    }
    return candidate;
  }
}

/** "1.2.3.4:5678" and "[::1]:80" appear in the wild; plain IPv6 ("::1") has several colons and no brackets. */
function stripPort(hop: string): string {
  if (hop.startsWith('[')) {
    const end = hop.indexOf(']');
    return end > 0 ? hop.slice(1, end) : hop;
  }
  const colon = hop.indexOf(':');
  return colon > 0 && hop.indexOf(':', colon + 1) < 0 ? hop.slice(0, colon) : hop;
}

/**
 * The value of the outgoing X-Forwarded-For: when the peer is a trusted proxy its chain is kept and the
 * peer appended (what nginx's $proxy_add_x_forwarded_for does); from anyone else an incoming value is a
 * claim we cannot check, so it is replaced by the peer address alone.
 */
export function outgoingForwardedFor(policy: ForwardingPolicy, peerIp: string,
  incoming: string | string[] | undefined): string {
  if (incoming === undefined || !policy.isTrustedProxy(peerIp)) return peerIp;
  const chain = typeof incoming === 'string' ? incoming : incoming.join(', ');
  return chain.length === 0 ? peerIp : `${chain}, ${peerIp}`;
}
