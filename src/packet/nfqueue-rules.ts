/**
 * Verdicts for NFQUEUE packets, decided from the IP and transport headers only (no reassembly: the
 * queue sees single packets): drop when an address is in `denyIps`, when the destination port is in
 * `denyPorts`, or when the packet belongs to a flow the engine blocked. Everything else is accepted.
 * Pure (no I/O) so the decision is unit-tested with built packets; the NFQUEUE reader applies it.
 */
import { ipv6Bytes } from '../platform/socket-address.js';
import { formatIpv4, formatIpv6 } from './packet-decoder.js';

export type DropReason = 'deny-ip' | 'deny-port' | 'blocked-flow';

interface Cidr4 {
  readonly net: number;
  readonly mask: number;
}

interface Cidr6 {
  readonly bytes: Buffer;
  readonly prefix: number;
}

/** A blocked flow: the client and server ends, in the decoder's text form. */
export interface FlowTuple {
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
}

export function flowTupleKey(aIp: string, aPort: number, bIp: string, bPort: number): string {
  // Direction-free: the same key for both directions of the flow.
  const a = `${aIp}|${aPort}`;
  const b = `${bIp}|${bPort}`;
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export class NfqueueRules {
  private readonly v4: Cidr4[] = [];
  private readonly v6: Cidr6[] = [];
  private readonly ports: Set<number>;
  /** Flow key → expiry (ms since epoch). */
  private readonly blocked = new Map<string, number>();

  constructor(denyIps: readonly string[], denyPorts: readonly number[], private readonly now: () => number = Date.now) {
    for (const c of denyIps) {
      const [address, prefixText] = c.split('/') as [string, string | undefined];
      if (address.includes(':')) {
        this.v6.push({ bytes: ipv6Bytes(address), prefix: Number(prefixText ?? 128) });
      } else {
        const prefix = Number(prefixText ?? 32);
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const parts = address.split('.').map(Number);
        const ip = (((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0);
        this.v4.push({ net: (ip & mask) >>> 0, mask });
      }
    }
    this.ports = new Set(denyPorts);
  }

  blockFlow(flow: FlowTuple, ttlMs: number): void {
    this.blocked.set(flowTupleKey(flow.clientIp, flow.clientPort, flow.serverIp, flow.serverPort), this.now() + ttlMs);
  }

  get blockedFlows(): number {
    return this.blocked.size;
  }

  /** Forgets expired blocked flows. */
  sweep(): void {
    const now = this.now();
    for (const [k, until] of this.blocked) if (until < now) this.blocked.delete(k);
  }

  /** null = accept; otherwise why the packet is dropped. `packet` starts with the IP header. */
  verdict(packet: Buffer): DropReason | null {
    if (packet.length < 1) return null;
    const version = packet[0]! >> 4;
    let proto: number;
    let l4: number;
    if (version === 4) {
      if (packet.length < 20) return null;
      const src = packet.readUInt32BE(12);
      const dst = packet.readUInt32BE(16);
      for (const c of this.v4) if (((src & c.mask) >>> 0) === c.net || ((dst & c.mask) >>> 0) === c.net) return 'deny-ip';
      proto = packet[9]!;
      l4 = (packet[0]! & 0x0f) * 4;
      if ((packet.readUInt16BE(6) & 0x1fff) !== 0) return null; // a later fragment has no ports
    } else if (version === 6) {
      if (packet.length < 40) return null;
      for (const c of this.v6) if (prefixMatch(packet, 8, c) || prefixMatch(packet, 24, c)) return 'deny-ip';
      proto = packet[6]!;
      l4 = 40;
    } else {
      return null;
    }
    if ((proto !== 6 && proto !== 17) || packet.length < l4 + 4) return null;
    const sport = packet.readUInt16BE(l4);
    const dport = packet.readUInt16BE(l4 + 2);
    if (this.ports.has(dport)) return 'deny-port';
    if (proto === 6 && this.blocked.size > 0) {
      const src = version === 4 ? formatIpv4(packet, 12) : formatIpv6(packet, 8);
      const dst = version === 4 ? formatIpv4(packet, 16) : formatIpv6(packet, 24);
      const until = this.blocked.get(flowTupleKey(src, sport, dst, dport));
      if (until !== undefined && until >= this.now()) return 'blocked-flow';
    }
    return null;
  }
}

function prefixMatch(packet: Buffer, off: number, c: Cidr6): boolean {
  let bits = c.prefix;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((packet[off + i]! & mask) !== (c.bytes[i]! & mask)) return false;
  }
  return true;
}
