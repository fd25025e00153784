/**
 * Builds IPv4/IPv6 + TCP packets with correct checksums: the TCP resets the sniffer injects, and the
 * segments the tests feed to the decoder and the reassembler.
 */
import { isIPv4 } from 'node:net';
import { ipv6Bytes } from '../platform/socket-address.js';

export interface TcpPacketSpec {
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window?: number;
  readonly payload?: Buffer;
  readonly ttl?: number;
}

function ipv4Bytes(address: string): Buffer {
  const parts = address.split('.');
  const b = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) b[i] = Number(parts[i]);
  return b;
}

/** One's-complement sum of 16-bit words, folded (not inverted). */
function sum16(buf: Buffer, start: number, end: number, acc: number): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += buf.readUInt16BE(i);
  if (i < end) s += buf[i]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function writeTcp(out: Buffer, off: number, spec: TcpPacketSpec, payload: Buffer): void {
  out.writeUInt16BE(spec.srcPort, off);
  out.writeUInt16BE(spec.dstPort, off + 2);
  out.writeUInt32BE(spec.seq >>> 0, off + 4);
  out.writeUInt32BE(spec.ack >>> 0, off + 8);
  out[off + 12] = 5 << 4;
  out[off + 13] = spec.flags;
  out.writeUInt16BE(spec.window ?? 0, off + 14);
  out.writeUInt16BE(0, off + 16);
  out.writeUInt16BE(0, off + 18);
  payload.copy(out, off + 20);
}

/** An IP packet (no link header) carrying one TCP segment, both checksums filled in. */
export function buildTcpPacket(spec: TcpPacketSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const tcpLength = 20 + payload.length;
  if (isIPv4(spec.srcIp)) {
    const out = Buffer.alloc(20 + tcpLength);
    out[0] = 0x45;
    out.writeUInt16BE(out.length, 2);
    out.writeUInt16BE(0x4000, 6); // DF
    out[8] = spec.ttl ?? 64;
    out[9] = 6;
    const src = ipv4Bytes(spec.srcIp);
    const dst = ipv4Bytes(spec.dstIp);
    src.copy(out, 12);
    dst.copy(out, 16);
    out.writeUInt16BE(~sum16(out, 0, 20, 0) & 0xffff, 10);
    writeTcp(out, 20, spec, payload);
    let s = sum16(out, 12, 20, 6 + tcpLength); // pseudo-header: addresses, protocol, TCP length
    s = sum16(out, 20, out.length, s);
    out.writeUInt16BE(~s & 0xffff, 36);
    return out;
  }
  const out = Buffer.alloc(40 + tcpLength);
  out.writeUInt32BE(0x60000000, 0);
  out.writeUInt16BE(tcpLength, 4);
  out[6] = 6;
  out[7] = spec.ttl ?? 64;
  ipv6Bytes(spec.srcIp).copy(out, 8);
  ipv6Bytes(spec.dstIp).copy(out, 24);
  writeTcp(out, 40, spec, payload);
  let s = sum16(out, 8, 40, 6 + tcpLength);
  s = sum16(out, 40, out.length, s);
  out.writeUInt16BE(~s & 0xffff, 56);
  return out;
}

/** Wraps an IP packet in an Ethernet II header (addresses are irrelevant to the sniffer). */
export function ethernetFrame(ipPacket: Buffer, srcMac = '02:00:00:00:00:01', dstMac = '02:00:00:00:00:02'): Buffer {
  const out = Buffer.alloc(14 + ipPacket.length);
  Buffer.from(dstMac.replace(/:/g, ''), 'hex').copy(out, 0);
  Buffer.from(srcMac.replace(/:/g, ''), 'hex').copy(out, 6);
  out.writeUInt16BE((ipPacket[0]! >> 4) === 6 ? 0x86dd : 0x0800, 12);
  ipPacket.copy(out, 14);
  return out;
}
