/**
 * Sniff mode: no listener. Frames from a mirror (SPAN) port are captured with libpcap, reassembled,
 * parsed as HTTP/1.1 and inspected by the same engine as the proxy modes, per server group and in its
 * operation mode. In `active` groups a block cannot answer with a block page: the flow is torn down
 * with TCP resets toward the client and the server, and an extra alert line (reason
 * `connection-reset`, same transaction id) says so; the blocked request's own alert has status 0.
 *
 * The capture, the raw socket and the optional NFQUEUE reader are opened in `start()` and closed in
 * `close()`. Native modules are loaded there (dynamic import), never by alias or bridge mode.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/types.js';
import type { ModeRuntime, ModeRuntimeFactory, RuntimeDeps } from '../../daemon/runtime.js';
import type { InspectorSet } from '../../pipeline/inspection.js';
import type { BlockedRequest } from '../../packet/flow-inspection.js';
import type { LiveCapture } from '../../packet/live-capture.js';
import { TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../../packet/packet-decoder.js';
import { PacketPipeline } from '../../packet/packet-pipeline.js';
import type { RstInjector } from '../../packet/rst-injector.js';
import { TO_CLIENT, TO_SERVER, type TcpFlow } from '../../packet/tcp-reassembly.js';
import type { NfqueueVerdicts } from '../../packet/nfqueue-verdicts.js';

/** After a block, later segments of the flow trigger fresh resets for this long, at most this often. */
const RESET_FOLLOW_UP_MS = 10_000;
const RESET_FOLLOW_UP_MAX = 8;

interface ResetState {
  until: number;
  sent: number;
}

// A type alias (not an interface) so it fits ModeRuntime.stats()'s Record<string, number>.
export type SniffStats = {
  readonly packets: number;
  readonly pcapDrops: number;
  readonly truncatedFrames: number;
  readonly flows: number;
  readonly activeFlows: number;
  readonly gaps: number;
  readonly gapBytes: number;
  readonly bytesInspected: number;
  readonly requests: number;
  readonly tlsFlows: number;
  readonly resetFlows: number;
  readonly resetsSent: number;
  readonly resetsFailed: number;
};

export class SniffRuntime implements ModeRuntime {
  readonly listeners = [];
  readonly pipeline: PacketPipeline;
  private readonly log: Logger;
  private readonly inspectors: InspectorSet | null;
  private capture: LiveCapture | null = null;
  private injector: RstInjector | null = null;
  private nfqueue: NfqueueVerdicts | null = null;
  private readonly resets = new Map<string, ResetState>();
  private expireTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly config: GatewayConfig, deps: RuntimeDeps) {
    if (config.gateway.workers > 1) {
      throw new Error('sniff mode captures in one process: set gateway.workers to 1');
    }
    this.log = deps.logger.child({ component: 'sniff' });
    this.inspectors = deps.inspectors;
    const s = config.gateway.sniff;
    this.pipeline = new PacketPipeline(config, deps.inspectors, { blocked: (b) => this.blocked(b) }, {
      maxBufferedPerDirection: s.flowBufferBytes,
      maxBufferedTotal: s.totalBufferBytes,
      maxFlows: s.maxFlows,
      idleTimeoutMs: s.idleTimeoutMs,
    });
    if (this.pipeline.endpoints.size === 0) {
      throw new Error('sniff mode has nothing to watch: no server group has servers and service ports');
    }
    this.pipeline.segmentObserver = (seg) => {
      if (this.resets.size > 0) this.followUpReset(seg);
    };
  }

  async start(): Promise<void> {
    const s = this.config.gateway.sniff;
    const anyActive = this.config.sites.some((site) => site.serverGroups.some((g) => g.operationMode === 'active'));
    try {
      if (anyActive) {
        const { openRstInjector } = await import('../../packet/rst-injector.js');
        this.injector = openRstInjector();
      }
      if (this.config.gateway.nfqueue.enabled) {
        const { startNfqueueVerdicts } = await import('../../packet/nfqueue-verdicts.js');
        this.nfqueue = await startNfqueueVerdicts(this.config.gateway.nfqueue, this.log, this.inspectors);
      }
      const { openLiveCapture } = await import('../../packet/live-capture.js');
      const filter = this.pipeline.endpoints.bpfFilter();
      let linkType = 0;
      this.capture = await openLiveCapture({
        interface: s.interface, filter, bufferBytes: s.bufferBytes, snapLength: s.snapLength,
        onFrame: (frame, timeMs) => this.pipeline.handleFrame(frame, linkType, timeMs),
      });
      linkType = this.capture.linkType;
      // cap opens libpcap in immediate mode with a 65535-byte snap length: libpcap then uses
      // TPACKET_V2 with fixed ~64 KiB slots, so the ring holds only bufferBytes / 64 KiB frames.
      const ringFrames = Math.floor(s.bufferBytes / 65_600);
      if (ringFrames < 2048) {
        this.log.warn({ bufferBytes: s.bufferBytes, ringFrames },
          `the capture ring holds about ${ringFrames} frames (64 KiB per slot with this libpcap binding): bursts will be dropped; raise gateway.sniff.bufferBytes (256 MiB holds about 4000)`);
      }
      this.log.info({ interface: s.interface, filter, linkType, resets: this.injector !== null, nfqueue: this.nfqueue !== null,
        dropCounting: this.capture.dropCounting }, 'sniffing');
    } catch (err) {
      await this.close(0);
      throw err;
    }
    this.expireTimer = setInterval(() => this.pipeline.expire(Date.now()), 1000);
    this.expireTimer.unref();
    if (s.statsIntervalMs > 0) {
      this.statsTimer = setInterval(() => this.log.info({ stats: this.stats() }, 'sniff stats'), s.statsIntervalMs);
      this.statsTimer.unref();
    }
  }

  stats(): SniffStats {
    const st = this.pipeline.stats();
    const c = this.capture?.counters();
    return {
      packets: st.packets.packets,
      pcapDrops: c?.dropped ?? 0,
      truncatedFrames: c?.truncated ?? 0,
      flows: st.reassembly.flowsOpened,
      activeFlows: st.reassembly.activeFlows,
      gaps: st.reassembly.gaps,
      gapBytes: st.reassembly.gapBytes,
      bytesInspected: st.http.bytesInspected,
      requests: st.http.requests,
      tlsFlows: st.http.tlsFlows,
      resetFlows: st.http.blockedFlows,
      resetsSent: this.injector?.sent ?? 0,
      resetsFailed: this.injector?.failed ?? 0,
    };
  }

  inFlight(): number {
    return 0;
  }

  async close(_graceMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.expireTimer) clearInterval(this.expireTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.capture?.close();
    if (this.capture) this.log.info({ stats: this.stats() }, 'sniffing stopped');
    // Open flows end now: every pending inspection gets its end() (and its alert).
    this.pipeline.finish();
    this.injector?.close();
    await this.nfqueue?.stop();
  }

  /** The engine blocked a request in an active group: reset both ends, tell NFQUEUE, say so. */
  private blocked(b: BlockedRequest): boolean {
    const flow = b.flow;
    const toServer = flow.expectedSeq(TO_SERVER);
    const toClient = flow.expectedSeq(TO_CLIENT);
    let sent = 0;
    if (this.injector && toServer !== null && toClient !== null) {
      if (this.injector.send({ srcIp: flow.clientIp, srcPort: flow.clientPort, dstIp: flow.serverIp, dstPort: flow.serverPort, seq: toServer, ack: toClient })) sent++;
      if (this.injector.send({ srcIp: flow.serverIp, srcPort: flow.serverPort, dstIp: flow.clientIp, dstPort: flow.clientPort, seq: toClient, ack: toServer })) sent++;
    }
    this.resets.set(flow.key, { until: Date.now() + RESET_FOLLOW_UP_MS, sent: 0 });
    this.nfqueue?.blockFlow(flow);
    const ruleIds = b.decision.ruleIds;
    const detail = sent === 2
      ? `connection reset: TCP RST injected toward client ${flow.clientIp}:${flow.clientPort} and server ${flow.serverIp}:${flow.serverPort} (rules ${ruleIds.join(',')})`
      : `connection NOT reset (${this.injector?.lastError ?? 'sequence numbers unknown'}): client ${flow.clientIp}:${flow.clientPort}, server ${flow.serverIp}:${flow.serverPort} (rules ${ruleIds.join(',')})`;
    this.log.warn({ id: b.facts.id, ruleIds, resetsSent: sent }, detail);
    this.inspectors?.protocolViolation({
      id: b.facts.id, serverGroup: b.facts.serverGroup, peerIp: flow.clientIp, clientIp: flow.clientIp,
      reason: sent === 2 ? 'connection-reset' : 'connection-reset-failed', detail,
    });
    return true;
  }

  /**
   * A segment of a flow we reset: the data the sniffer had not seen when it decided may have moved
   * the sequence numbers on. This segment says exactly what its receiver expects next.
   */
  private followUpReset(seg: TcpSegment): void {
    if ((seg.flags & TCP_RST) !== 0 || !this.injector) return;
    const dir = this.pipeline.endpoints.directionOf(seg);
    if (dir === null) return;
    const key = dir === TO_SERVER
      ? `${seg.srcIp}|${seg.srcPort}|${seg.dstIp}|${seg.dstPort}`
      : `${seg.dstIp}|${seg.dstPort}|${seg.srcIp}|${seg.srcPort}`;
    const state = this.resets.get(key);
    if (!state) return;
    const now = Date.now();
    if (now > state.until || state.sent >= RESET_FOLLOW_UP_MAX) {
      if (now > state.until) this.resets.delete(key);
      return;
    }
    state.sent++;
    const next = (seg.seq + seg.payloadLength + ((seg.flags & TCP_SYN) !== 0 ? 1 : 0) + ((seg.flags & TCP_FIN) !== 0 ? 1 : 0)) >>> 0;
    // To the receiver of this segment: it expects `next`. To its sender: it expects `seg.ack`.
    this.injector.send({ srcIp: seg.srcIp, srcPort: seg.srcPort, dstIp: seg.dstIp, dstPort: seg.dstPort, seq: next, ack: seg.ack });
    this.injector.send({ srcIp: seg.dstIp, srcPort: seg.dstPort, dstIp: seg.srcIp, dstPort: seg.srcPort, seq: seg.ack, ack: next });
  }
}

export const createSniffRuntime: ModeRuntimeFactory = (config, deps) => new SniffRuntime(config, deps);

export type { TcpFlow };
