/**
 * TCP stream reassembly for a passive observer, per flow and per direction.
 *
 * Policy (see docs/SNIFF.md, "Reassembly"):
 *  - Overlaps: FIRST WINS. Bytes already received, whether delivered or still queued out of order, are
 *    never replaced by a later segment that covers the same sequence range (Suricata's `first` policy).
 *    A retransmission that carries different bytes for a range we already have is counted
 *    (`overlapBytes`) and its conflicting bytes are ignored. Real end hosts differ (Linux keeps the
 *    first copy of queued data too, but some stacks do not), so an evasion using conflicting
 *    overlaps may still be read differently by the server; the counter makes such traffic visible.
 *  - Out of order: segments ahead of the next expected byte are copied and queued (sorted), and
 *    delivered as soon as the hole before them is filled.
 *  - Missing data: when a direction has more than `maxBufferedPerDirection` bytes queued, or the
 *    whole table more than `maxBufferedTotal`, or the flow ends (FIN, RST, idle timeout, eviction)
 *    with holes, the hole is skipped: a gap of N bytes is reported to the consumer (`gap()`), counted,
 *    and delivery resumes after it. Memory is therefore bounded per flow and in total.
 *  - Midstream pickup: a flow first seen without its SYN starts at the first data segment seen.
 *  - A flow ends when both directions have delivered their FIN, on a RST, after `idleTimeoutMs`
 *    without packets (capture time, so replay behaves like live capture), or when the table is full
 *    (the oldest flow is evicted).
 *
 * Data handed to `data()` is only valid during the call (in-order segments are delivered as views of
 * the capture buffer, without a copy); consumers copy what they keep.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, payloadOf, type TcpSegment } from './packet-decoder.js';

export const TO_SERVER = 0;
export const TO_CLIENT = 1;
export type Direction = typeof TO_SERVER | typeof TO_CLIENT;

export type CloseReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'end' | 'reused';

export interface ReassemblyLimits {
  /** Out-of-order bytes queued per direction before the hole is declared a gap. */
  readonly maxBufferedPerDirection: number;
  /** Out-of-order bytes queued over all flows. */
  readonly maxBufferedTotal: number;
  /** Concurrent flows; the oldest is evicted beyond this. */
  readonly maxFlows: number;
  readonly idleTimeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = Object.freeze({
  maxBufferedPerDirection: 1024 * 1024,
  maxBufferedTotal: 64 * 1024 * 1024,
  maxFlows: 100_000,
  idleTimeoutMs: 120_000,
});

export interface ReassemblyStats {
  segments: number;
  flowsOpened: number;
  flowsClosed: number;
  flowsEvicted: number;
  activeFlows: number;
  gaps: number;
  gapBytes: number;
  retransmittedBytes: number;
  overlapBytes: number;
  /** Bytes delivered in order to the consumer (both directions). */
  bytesDelivered: number;
  bufferedBytes: number;
}

export interface FlowEvents {
  opened(flow: TcpFlow): void;
  data(flow: TcpFlow, dir: Direction, chunk: Buffer): void;
  gap(flow: TcpFlow, dir: Direction, bytes: number): void;
  closed(flow: TcpFlow, reason: CloseReason): void;
}

/** Decides the direction of a segment: TO_SERVER, TO_CLIENT, or null for traffic we do not watch. */
export type DirectionOf = (seg: TcpSegment) => Direction | null;

interface QueuedSegment {
  seq: number;
  data: Buffer;
}

class HalfStream {
  /** The next sequence number to deliver (valid once `started`). */
  nextSeq = 0;
  started = false;
  /** One past the highest sequence number seen (SYN and FIN count): what the receiver expects next. */
  seqEnd = 0;
  finSeq = 0;
  hasFin = false;
  finished = false;
  queue: QueuedSegment[] = [];
  queuedBytes = 0;
  delivered = 0;
}

export class TcpFlow {
  readonly half: [HalfStream, HalfStream] = [new HalfStream(), new HalfStream()];
  lastSeenMs = 0;
  /** Consumer state (the HTTP conversation in sniff mode). */
  app: unknown = null;
  closed = false;

  constructor(
    readonly key: string,
    readonly ipVersion: 4 | 6,
    readonly clientIp: string,
    readonly clientPort: number,
    readonly serverIp: string,
    readonly serverPort: number,
  ) {}

  /** The sequence number the receiver of `dir` expects next, or null before anything was seen. */
  expectedSeq(dir: Direction): number | null {
    const h = this.half[dir];
    return h.started ? h.seqEnd >>> 0 : null;
  }
}

function after(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export class TcpReassembler {
  readonly stats: ReassemblyStats = {
    segments: 0, flowsOpened: 0, flowsClosed: 0, flowsEvicted: 0, activeFlows: 0, gaps: 0, gapBytes: 0,
    retransmittedBytes: 0, overlapBytes: 0, bytesDelivered: 0, bufferedBytes: 0,
  };
  private readonly flows = new Map<string, TcpFlow>();
  private lastSweepMs = 0;

  constructor(
    private readonly events: FlowEvents,
    private readonly directionOf: DirectionOf,
    private readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS,
  ) {}

  get flowCount(): number {
    return this.flows.size;
  }

  /** Feeds one decoded segment. */
  add(seg: TcpSegment): void {
    const dir = this.directionOf(seg);
    if (dir === null) return;
    this.stats.segments++;
    const key = dir === TO_SERVER
      ? `${seg.srcIp}|${seg.srcPort}|${seg.dstIp}|${seg.dstPort}`
      : `${seg.dstIp}|${seg.dstPort}|${seg.srcIp}|${seg.srcPort}`;
    let flow = this.flows.get(key);
    const syn = (seg.flags & TCP_SYN) !== 0;
    if (flow && syn && (seg.flags & TCP_ACK) === 0) {
      // A new SYN with another ISN on a flow that already carried data: the port pair was reused.
      const h = flow.half[dir];
      if (h.started && h.delivered > 0 && ((seg.seq + 1 - h.nextSeq) | 0) !== 0) {
        this.close(flow, 'reused');
        flow = undefined;
      }
    }
    if (!flow) {
      // Only a SYN or data opens a flow: the last ACK of a closed flow, or a RST, must not.
      if (!syn && seg.payloadLength === 0) return;
      flow = dir === TO_SERVER
        ? new TcpFlow(key, seg.ipVersion, seg.srcIp, seg.srcPort, seg.dstIp, seg.dstPort)
        : new TcpFlow(key, seg.ipVersion, seg.dstIp, seg.dstPort, seg.srcIp, seg.srcPort);
      if (this.flows.size >= this.limits.maxFlows) this.evictOldest();
      this.flows.set(key, flow);
      this.stats.flowsOpened++;
      this.stats.activeFlows = this.flows.size;
      this.events.opened(flow);
    }
    flow.lastSeenMs = seg.timeMs;
    if ((seg.flags & TCP_RST) !== 0) {
      this.close(flow, 'rst');
      return;
    }
    const h = flow.half[dir];
    let dataSeq = seg.seq;
    if (syn) {
      dataSeq = (seg.seq + 1) >>> 0;
      if (!h.started || h.delivered === 0) {
        h.started = true;
        h.nextSeq = dataSeq;
        h.seqEnd = dataSeq;
      }
    }
    const len = seg.payloadLength;
    if (len > 0 || (seg.flags & TCP_FIN) !== 0) {
      if (!h.started) {
        h.started = true;
        h.nextSeq = dataSeq;
        h.seqEnd = dataSeq;
      }
      const end = (dataSeq + len) >>> 0;
      if (after(end + ((seg.flags & TCP_FIN) !== 0 ? 1 : 0), h.seqEnd)) h.seqEnd = (end + ((seg.flags & TCP_FIN) !== 0 ? 1 : 0)) >>> 0;
      if (len > 0) this.insert(flow, dir, h, dataSeq, payloadOf(seg));
      if ((seg.flags & TCP_FIN) !== 0 && !h.hasFin) {
        h.hasFin = true;
        h.finSeq = end;
      }
    }
    if (flow.closed) return;
    if ((seg.flags & TCP_ACK) !== 0) this.acknowledged(flow, (1 - dir) as Direction, seg.ack);
    if (flow.closed) return;
    if (h.hasFin && !h.finished && h.nextSeq === h.finSeq) h.finished = true;
    if (flow.half[0].finished && flow.half[1].finished) this.close(flow, 'fin');
    if (seg.timeMs - this.lastSweepMs >= 1000) this.expire(seg.timeMs);
  }

  private insert(flow: TcpFlow, dir: Direction, h: HalfStream, seq: number, data: Buffer): void {
    let off = (seq - h.nextSeq) | 0;
    if (off + data.length <= 0) {
      this.stats.retransmittedBytes += data.length;
      return;
    }
    if (off < 0) {
      // Partly old: the bytes before nextSeq were delivered already and win (first-wins).
      this.stats.overlapBytes += -off;
      data = data.subarray(-off);
      seq = h.nextSeq;
      off = 0;
    }
    if (off === 0 && h.queue.length === 0) {
      this.deliver(flow, dir, h, data);
      return;
    }
    this.enqueue(h, seq, data);
    this.drain(flow, dir, h);
    while (!flow.closed && h.queue.length > 0 &&
      (h.queuedBytes > this.limits.maxBufferedPerDirection || this.stats.bufferedBytes > this.limits.maxBufferedTotal)) {
      this.skipToQueued(flow, dir, h);
    }
  }

  /**
   * The receiver of `dir` acknowledged up to `ack`: bytes before it that we never saw were lost by
   * the capture, not by the network, and will not be retransmitted. Declare them a gap now instead
   * of waiting for the buffer limit or the end of the flow.
   */
  private acknowledged(flow: TcpFlow, dir: Direction, ack: number): void {
    const h = flow.half[dir];
    if (!h.started || !after(ack, h.nextSeq)) return;
    while (h.queue.length > 0 && !flow.closed && !after(h.queue[0]!.seq, ack) && after(h.queue[0]!.seq, h.nextSeq)) {
      this.skipToQueued(flow, dir, h);
    }
    if (h.hasFin && !h.finished && after(ack, h.finSeq) && after(h.finSeq, h.nextSeq) && h.queue.length === 0) {
      this.gap(flow, dir, h, (h.finSeq - h.nextSeq) | 0);
    }
    if (h.hasFin && h.nextSeq === h.finSeq) h.finished = true;
  }

  /** Queues a copy of the parts of [seq, seq+len) that no queued segment covers yet (first-wins). */
  private enqueue(h: HalfStream, seq: number, data: Buffer): void {
    const base = h.nextSeq;
    const a = (seq - base) | 0;
    const b = a + data.length;
    let cursor = a;
    const pieces: QueuedSegment[] = [];
    let copy: Buffer | null = null;
    const take = (from: number, to: number): void => {
      copy ??= Buffer.from(data);
      pieces.push({ seq: (base + from) >>> 0, data: copy.subarray(from - a, to - a) });
    };
    for (const q of h.queue) {
      const s = (q.seq - base) | 0;
      const e = s + q.data.length;
      if (e <= cursor) continue;
      if (s >= b) break;
      if (s > cursor) take(cursor, s);
      this.stats.overlapBytes += Math.min(e, b) - Math.max(s, cursor);
      cursor = Math.max(cursor, e);
      if (cursor >= b) break;
    }
    if (cursor < b) take(cursor, b);
    if (pieces.length === 0) return;
    for (const p of pieces) {
      h.queuedBytes += p.data.length;
      this.stats.bufferedBytes += p.data.length;
      h.queue.push(p);
    }
    h.queue.sort((x, y) => ((x.seq - base) | 0) - ((y.seq - base) | 0));
  }

  /** Delivers queued segments that have become contiguous. */
  private drain(flow: TcpFlow, dir: Direction, h: HalfStream): void {
    while (h.queue.length > 0 && !flow.closed) {
      const q = h.queue[0]!;
      const off = (q.seq - h.nextSeq) | 0;
      if (off > 0) return;
      h.queue.shift();
      h.queuedBytes -= q.data.length;
      this.stats.bufferedBytes -= q.data.length;
      if (off + q.data.length <= 0) continue; // superseded: its bytes were delivered already
      this.deliver(flow, dir, h, off < 0 ? q.data.subarray(-off) : q.data);
    }
  }

  /** Declares the hole before the first queued segment a gap and resumes delivery there. */
  private skipToQueued(flow: TcpFlow, dir: Direction, h: HalfStream): void {
    const q = h.queue[0]!;
    const missing = (q.seq - h.nextSeq) | 0;
    if (missing > 0) this.gap(flow, dir, h, missing);
    this.drain(flow, dir, h);
  }

  private gap(flow: TcpFlow, dir: Direction, h: HalfStream, bytes: number): void {
    this.stats.gaps++;
    this.stats.gapBytes += bytes;
    h.nextSeq = (h.nextSeq + bytes) >>> 0;
    this.events.gap(flow, dir, bytes);
  }

  private deliver(flow: TcpFlow, dir: Direction, h: HalfStream, data: Buffer): void {
    h.nextSeq = (h.nextSeq + data.length) >>> 0;
    h.delivered += data.length;
    this.stats.bytesDelivered += data.length;
    this.events.data(flow, dir, data);
  }

  /** Flushes what is queued (declaring holes as gaps) and ends the flow. */
  close(flow: TcpFlow, reason: CloseReason): void {
    if (flow.closed) return;
    for (const dir of [TO_SERVER, TO_CLIENT] as const) {
      const h = flow.half[dir];
      while (h.queue.length > 0 && !flow.closed) this.skipToQueued(flow, dir, h);
      // Data announced by a FIN but never seen.
      if (h.hasFin && after(h.finSeq, h.nextSeq)) this.gap(flow, dir, h, (h.finSeq - h.nextSeq) | 0);
    }
    flow.closed = true;
    this.flows.delete(flow.key);
    this.stats.flowsClosed++;
    if (reason === 'evicted') this.stats.flowsEvicted++;
    this.stats.activeFlows = this.flows.size;
    this.events.closed(flow, reason);
  }

  /** Ends flows idle for longer than the timeout (by capture time). */
  expire(nowMs: number): void {
    this.lastSweepMs = nowMs;
    const limit = nowMs - this.limits.idleTimeoutMs;
    for (const flow of this.flows.values()) if (flow.lastSeenMs < limit) this.close(flow, 'idle');
  }

  /** Ends every flow (end of a capture file, shutdown). */
  closeAll(reason: CloseReason = 'end'): void {
    for (const flow of [...this.flows.values()]) this.close(flow, reason);
  }

  findFlow(key: string): TcpFlow | undefined {
    return this.flows.get(key);
  }

  private evictOldest(): void {
    const oldest = this.flows.values().next();
    if (!oldest.done) this.close(oldest.value, 'evicted');
  }
}
