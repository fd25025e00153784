/**
 * Captured frames → TCP segments → reassembled flows → HTTP → policy engine. One instance per capture
 * (live interface or pcap file); the frame handler is the per-packet hot path and allocates only the
 * flow key and the address strings.
 */
import type { GatewayConfig } from '../config/types.js';
import type { InspectorSet } from '../pipeline/inspection.js';
import { FlowInspection, type FlowInspectionHooks, type FlowInspectionStats } from './flow-inspection.js';
import { decodeTcpSegment, newTcpSegment, type SkipReason, type TcpSegment } from './packet-decoder.js';
import { ProtectedEndpoints } from './protected-endpoints.js';
import { DEFAULT_REASSEMBLY_LIMITS, TcpReassembler, type ReassemblyLimits, type ReassemblyStats } from './tcp-reassembly.js';

export interface PacketStats {
  packets: number;
  /** Frames that were not a usable TCP segment, by reason. */
  skipped: Record<SkipReason, number>;
}

export interface PipelineStats {
  readonly packets: PacketStats;
  readonly reassembly: ReassemblyStats;
  readonly http: FlowInspectionStats;
}

export class PacketPipeline {
  readonly endpoints: ProtectedEndpoints;
  readonly reassembler: TcpReassembler;
  readonly inspection: FlowInspection;
  readonly packetStats: PacketStats = {
    packets: 0,
    skipped: { 'not-ip': 0, 'not-tcp': 0, truncated: 0, fragment: 0, 'bad-header': 0 },
  };
  private readonly segment = newTcpSegment();
  /** Capture time of the packet being processed (the engine's clock during replay). */
  private currentTimeMs = 0;
  /** Sees every decoded segment before reassembly (sniff mode re-sends resets from it); null = none. */
  segmentObserver: ((seg: TcpSegment) => void) | null = null;

  constructor(
    config: GatewayConfig,
    inspectors: InspectorSet | null,
    hooks: FlowInspectionHooks,
    limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS,
    endpoints = new ProtectedEndpoints(config),
  ) {
    this.endpoints = endpoints;
    this.inspection = new FlowInspection(config, endpoints, inspectors, hooks, () => this.currentTimeMs);
    this.reassembler = new TcpReassembler(this.inspection, endpoints.directionOf, limits);
  }

  handleFrame(frame: Buffer, linkType: number, timeMs: number): void {
    this.packetStats.packets++;
    this.currentTimeMs = timeMs;
    const skip = decodeTcpSegment(frame, linkType, timeMs, this.segment);
    if (skip !== null) {
      this.packetStats.skipped[skip]++;
      return;
    }
    if (this.segmentObserver !== null) this.segmentObserver(this.segment);
    this.reassembler.add(this.segment);
  }

  /** Ends idle flows (live capture calls this from a timer, so quiet links still time out). */
  expire(nowMs: number): void {
    this.currentTimeMs = nowMs;
    this.reassembler.expire(nowMs);
  }

  /** Ends every flow: end of file or shutdown. */
  finish(): void {
    this.reassembler.closeAll('end');
  }

  stats(): PipelineStats {
    return { packets: this.packetStats, reassembly: this.reassembler.stats, http: this.inspection.stats };
  }
}
