/**
 * Offline replay: a pcap file through decoding, reassembly, HTTP parsing and the policy engine of a
 * configuration, exactly as sniff mode would see it live. Blocks are not enforced (there is nobody to
 * reset); a blocked request ends with the status the gateway would have answered, and the flow's later
 * requests are still inspected, so one run shows every rule the policy would fire.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.js';
import type { InspectorSet } from '../pipeline/inspection.js';
import type { Alert } from '../policy/alerts.js';
import { PacketPipeline, type PipelineStats } from './packet-pipeline.js';
import { PcapReader } from './pcap-file.js';

export interface ReplaySummary {
  readonly file: string;
  readonly packets: number;
  readonly bytes: number;
  readonly truncatedFile: boolean;
  readonly flows: number;
  readonly requests: number;
  readonly responses: number;
  readonly alerts: number;
  /** Rule id → number of alerts naming it (an alert naming several rules counts for each). */
  readonly alertsByRule: Readonly<Record<string, number>>;
  /** Requests a blocking rule stopped (in `active` groups). */
  readonly blocked: number;
  readonly stats: PipelineStats;
  readonly durationMs: number;
}

export interface ReplayOptions {
  readonly logger: Logger;
  readonly onAlert?: (alert: Alert) => void;
  /** Called now and then with bytes read and the file size. */
  readonly onProgress?: (bytesRead: number, fileSize: number) => void;
  /**
   * Already compiled inspectors (the benchmark measures replay without the policy compile); their
   * alerts then go wherever they were built to send them, and `alerts`/`alertsByRule` stay 0.
   */
  readonly inspectors?: InspectorSet;
}

export async function replayPcap(file: string, config: GatewayConfig, options: ReplayOptions): Promise<ReplaySummary> {
  const started = performance.now();
  const alertsByRule: Record<string, number> = {};
  let alerts = 0;
  // The engine is loaded here, not at module load, so the CLI starts fast for other commands.
  const inspectors = options.inspectors ?? (await import('../policy/inspector.js')).createInspectorSet(config, {
    logger: options.logger,
    alertSink: (alert) => {
      alerts++;
      for (const id of alert.ruleIds) alertsByRule[String(id)] = (alertsByRule[String(id)] ?? 0) + 1;
      options.onAlert?.(alert);
    },
  });
  let blocked = 0;
  const pipeline = new PacketPipeline(config, inspectors, {
    blocked: () => {
      blocked++;
      return false;
    },
  });
  const reader = new PcapReader(file);
  try {
    const linkType = reader.header.linkType;
    const onRecord = (frame: Buffer, timeMs: number) => pipeline.handleFrame(frame, linkType, timeMs);
    for (;;) {
      const n = reader.read(onRecord, 20_000);
      options.onProgress?.(reader.bytesRead, reader.fileSize);
      if (n === 0) break;
    }
    pipeline.finish();
  } finally {
    reader.close();
    if (!options.inspectors) inspectors.close();
  }
  const stats = pipeline.stats();
  const summary = reader.summary();
  return {
    file,
    packets: summary.packets,
    bytes: summary.bytes,
    truncatedFile: summary.truncated,
    flows: stats.reassembly.flowsOpened,
    requests: stats.http.requests,
    responses: stats.http.responses,
    alerts,
    alertsByRule,
    blocked,
    stats,
    durationMs: performance.now() - started,
  };
}
