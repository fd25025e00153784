/**
 * The protected servers of a configuration as (address, port) endpoints: which server group owns a
 * packet's destination, whether that port is TLS, and the BPF filter that captures exactly them.
 */
import type { GatewayConfig, ServerGroup } from '../config/types.js';
import { ipFamily, ipv6Bytes } from '../platform/socket-address.js';
import { formatIpv6, type TcpSegment } from './packet-decoder.js';
import { TO_CLIENT, TO_SERVER, type Direction } from './tcp-reassembly.js';

export interface ProtectedEndpoint {
  readonly address: string;
  readonly port: number;
  readonly group: ServerGroup;
  readonly tls: boolean;
}

/** Canonical text form, identical to what the decoder produces for the same address. */
export function canonicalIp(address: string): string {
  return ipFamily(address) === 6 ? formatIpv6(ipv6Bytes(address), 0) : address;
}

export class ProtectedEndpoints {
  private readonly byKey = new Map<string, ProtectedEndpoint>();

  constructor(config: GatewayConfig) {
    for (const site of config.sites) {
      for (const group of site.serverGroups) {
        for (const server of group.servers) {
          const address = canonicalIp(server);
          for (const service of group.services) {
            for (const port of service.ports) this.add({ address, port, group, tls: false });
            for (const port of service.sslPorts) this.add({ address, port, group, tls: true });
          }
        }
      }
    }
  }

  private add(e: ProtectedEndpoint): void {
    // The first group that names an endpoint owns it (the configuration order is the precedence).
    const key = `${e.address}|${e.port}`;
    if (!this.byKey.has(key)) this.byKey.set(key, e);
  }

  get size(): number {
    return this.byKey.size;
  }

  list(): ProtectedEndpoint[] {
    return [...this.byKey.values()];
  }

  lookup(address: string, port: number): ProtectedEndpoint | undefined {
    return this.byKey.get(`${address}|${port}`);
  }

  /** TO_SERVER when the segment goes to a protected endpoint, TO_CLIENT when it comes from one. */
  readonly directionOf = (seg: TcpSegment): Direction | null => {
    if (this.byKey.has(`${seg.dstIp}|${seg.dstPort}`)) return TO_SERVER;
    if (this.byKey.has(`${seg.srcIp}|${seg.srcPort}`)) return TO_CLIENT;
    return null;
  };

  /**
   * `tcp and ((host A and port P) or …)`, grouped by address. Fragments are excluded implicitly:
   * libpcap's `port` only matches first fragments, and the decoder skips fragments anyway.
   */
  bpfFilter(): string {
    const ports = new Map<string, Set<number>>();
    for (const e of this.byKey.values()) {
      let set = ports.get(e.address);
      if (!set) ports.set(e.address, (set = new Set()));
      set.add(e.port);
    }
    if (ports.size === 0) return 'tcp and not tcp';
    const terms = [...ports].map(([address, set]) => {
      const p = [...set].sort((a, b) => a - b).map((n) => `port ${n}`).join(' or ');
      return `(host ${address} and (${p}))`;
    });
    return `tcp and (${terms.join(' or ')})`;
  }
}

export { TO_CLIENT, TO_SERVER };
