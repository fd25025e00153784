/** Builds TCP conversations as Ethernet frames for the decoder, reassembler and replay tests. */
import { buildTcpPacket, ethernetFrame } from '../../src/packet/packet-builder.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../src/packet/packet-decoder.js';

export interface Frame {
  readonly frame: Buffer;
  readonly timeMs: number;
  /** Which side sent it. */
  readonly from: 'client' | 'server';
}

export class TcpConversation {
  cseq: number;
  sseq: number;
  timeMs: number;

  constructor(
    readonly client = '10.1.0.1',
    readonly cport = 40000,
    readonly server = '10.1.0.2',
    readonly sport = 80,
    cIsn = 1000,
    sIsn = 5000,
    startMs = 1_700_000_000_000,
  ) {
    this.cseq = cIsn;
    this.sseq = sIsn;
    this.timeMs = startMs;
  }

  private frame(from: 'client' | 'server', seq: number, flags: number, payload?: Buffer): Frame {
    const c = from === 'client';
    const ip = buildTcpPacket({
      srcIp: c ? this.client : this.server, dstIp: c ? this.server : this.client,
      srcPort: c ? this.cport : this.sport, dstPort: c ? this.sport : this.cport,
      seq, ack: c ? this.sseq : this.cseq, flags, window: 65535, payload,
    });
    this.timeMs += 1;
    return { frame: ethernetFrame(ip), timeMs: this.timeMs, from };
  }

  handshake(): Frame[] {
    const syn = this.frame('client', this.cseq, TCP_SYN);
    this.cseq = (this.cseq + 1) >>> 0;
    const synAck = this.frame('server', this.sseq, TCP_SYN | TCP_ACK);
    this.sseq = (this.sseq + 1) >>> 0;
    return [syn, synAck, this.frame('client', this.cseq, TCP_ACK)];
  }

  /** Data from one side, cut into segments of `segmentSize` bytes. */
  send(from: 'client' | 'server', data: Buffer | string, segmentSize = 1460): Frame[] {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const out: Frame[] = [];
    for (let off = 0; off < buf.length; off += segmentSize) {
      const part = buf.subarray(off, Math.min(buf.length, off + segmentSize));
      const seq = from === 'client' ? this.cseq : this.sseq;
      out.push(this.frame(from, seq, TCP_ACK | TCP_PSH, part));
      if (from === 'client') this.cseq = (this.cseq + part.length) >>> 0;
      else this.sseq = (this.sseq + part.length) >>> 0;
    }
    return out;
  }

  /** A segment at an explicit sequence offset from the side's current position (does not advance). */
  segmentAt(from: 'client' | 'server', offset: number, data: Buffer | string): Frame {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const base = from === 'client' ? this.cseq : this.sseq;
    return this.frame(from, (base + offset) >>> 0, TCP_ACK | TCP_PSH, buf);
  }

  advance(from: 'client' | 'server', bytes: number): void {
    if (from === 'client') this.cseq = (this.cseq + bytes) >>> 0;
    else this.sseq = (this.sseq + bytes) >>> 0;
  }

  close(): Frame[] {
    const a = this.frame('client', this.cseq, TCP_FIN | TCP_ACK);
    this.cseq = (this.cseq + 1) >>> 0;
    const b = this.frame('server', this.sseq, TCP_FIN | TCP_ACK);
    this.sseq = (this.sseq + 1) >>> 0;
    return [a, b, this.frame('client', this.cseq, TCP_ACK)];
  }
}

/** Deterministic shuffle (seeded LCG) so a failing order can be reproduced. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
