/**
 * Messages between the cluster primary and its workers (node:cluster IPC). Commands go to workers,
 * events come back; every command but `stop` carries a `seq` its reply repeats.
 */
import type { HealthLogEntry } from '../pools/health-log.js';
import type { GatewayStatus, ReloadResult } from './gateway.js';

export type PrimaryToWorker =
  | { readonly type: 'start'; readonly file: string; readonly text: string }
  | { readonly type: 'reload'; readonly seq: number; readonly file: string; readonly text: string }
  | { readonly type: 'status'; readonly seq: number }
  /** The worker's health-log entries after sequence number `after` (src/pools/health-log.ts). */
  | { readonly type: 'health-log'; readonly seq: number; readonly after: number }
  | { readonly type: 'stop' };

export type WorkerToPrimary =
  /** The worker's message handler is installed; 'start' may be sent (earlier messages would be lost). */
  | { readonly type: 'waiting' }
  | { readonly type: 'started' }
  | { readonly type: 'start-failed'; readonly errors: readonly string[]; readonly code: string }
  | { readonly type: 'reloaded'; readonly seq: number; readonly result: ReloadResult }
  | { readonly type: 'status'; readonly seq: number; readonly status: GatewayStatus }
  | { readonly type: 'health-log'; readonly seq: number; readonly lastSeq: number; readonly entries: readonly HealthLogEntry[] };

export function isWorkerMessage(m: unknown): m is WorkerToPrimary {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
