/**
 * NFQUEUE inline verdicts, driven from the daemon: starts the reader process
 * (nfqueue-reader-child.ts), restarts it when it dies (traffic passes meanwhile thanks to
 * `--queue-bypass`), forwards the flows the engine blocked, and watches the kernel's per-queue
 * counters (/proc/net/netfilter/nfnetlink_queue: queue_dropped = queue full, user_dropped = netlink
 * buffer overrun) so that overruns are counted, logged and alerted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { NfqueueSection } from '../config/types.js';
import type { InspectorSet } from '../pipeline/inspection.js';
import { nextRequestId } from '../pipeline/request-id.js';
import { PacketError } from './packet-errors.js';
import type { FlowTuple } from './nfqueue-rules.js';

export interface NfqueueStats {
  accepted: number;
  dropped: number;
  byReason: Record<string, number>;
  overruns: number;
  restarts: number;
  running: boolean;
}

export interface NfqueueVerdicts {
  blockFlow(flow: FlowTuple): void;
  stats(): NfqueueStats;
  /** Process id of the running reader (null while it is down). */
  readerPid(): number | null;
  /** Stops the reader and starts a new one (the queue is bypassed in between). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const CHILD = new URL(`./nfqueue-reader-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
const READY_TIMEOUT_MS = 15_000;

/** queue_dropped + user_dropped of one queue, or null when the queue is not bound / no /proc. */
export function readQueueDrops(queue: number, text?: string): number | null {
  let content = text;
  if (content === undefined) {
    try {
      content = readFileSync('/proc/net/netfilter/nfnetlink_queue', 'utf8');
    } catch {
      return null;
    }
  }
  for (const line of content.split('\n')) {
    const cols = line.trim().split(/\s+/).map(Number);
    if (cols.length >= 7 && cols[0] === queue) return cols[5]! + cols[6]!;
  }
  return null;
}

export async function startNfqueueVerdicts(section: NfqueueSection, logger: Logger, inspectors: InspectorSet | null): Promise<NfqueueVerdicts> {
  const log = logger.child({ component: 'nfqueue', queue: section.queue });
  const totals = { accepted: 0, dropped: 0, byReason: {} as Record<string, number> };
  let base = { accepted: 0, dropped: 0, byReason: {} as Record<string, number> };
  let last = { accepted: 0, dropped: 0, byReason: {} as Record<string, number> };
  let overruns = 0;
  let restarts = 0;
  let child: ChildProcess | null = null;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | null = null;
  let backoffMs = 500;
  const blocked = new Map<string, { flow: FlowTuple; until: number }>();
  let lastDrops: number | null = null;
  let pendingOverruns = 0;
  let lastAlertAt = 0;

  const spawnReader = (): Promise<void> => new Promise((resolve, reject) => {
    const options = JSON.stringify({ queue: section.queue, denyIps: section.denyIps, denyPorts: section.denyPorts });
    const c = fork(CHILD, [options], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.execArgv });
    child = c;
    let ready = false;
    const timer = setTimeout(() => {
      if (!ready) {
        c.kill('SIGKILL');
        reject(new PacketError('ERR_NFQUEUE_OPEN', `the NFQUEUE reader did not start within ${READY_TIMEOUT_MS} ms`));
      }
    }, READY_TIMEOUT_MS);
    c.on('message', (m: { type: string; message?: string; accepted?: number; dropped?: number; byReason?: Record<string, number> }) => {
      if (m.type === 'ready') {
        ready = true;
        clearTimeout(timer);
        backoffMs = 500;
        const now = Date.now();
        for (const { flow, until } of blocked.values()) if (until > now) c.send({ type: 'block', flow, ttlMs: until - now });
        resolve();
      } else if (m.type === 'error') {
        clearTimeout(timer);
        reject(new PacketError('ERR_NFQUEUE_OPEN', m.message ?? 'the NFQUEUE reader failed'));
      } else if (m.type === 'stats') {
        last = { accepted: m.accepted ?? 0, dropped: m.dropped ?? 0, byReason: m.byReason ?? {} };
      }
    });
    c.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Counters of the dead reader are kept.
      base = add(base, last);
      last = { accepted: 0, dropped: 0, byReason: {} };
      if (child === c) child = null;
      if (!ready) {
        reject(new PacketError('ERR_NFQUEUE_OPEN', `the NFQUEUE reader exited during start (code ${code}, signal ${signal})`));
        return;
      }
      if (stopping) return;
      log.error({ code, signal, retryInMs: backoffMs }, 'NFQUEUE reader died; the queue is bypassed until it is back');
      scheduleRestart();
    });
  });

  const scheduleRestart = () => {
    if (restartTimer || stopping) return;
    restartTimer = setTimeout(() => {
      restartTimer = null;
      restarts++;
      spawnReader().then(() => log.info({ restarts }, 'NFQUEUE reader restarted'), (err: Error) => {
        log.error({ err: err.message }, 'NFQUEUE reader restart failed');
        backoffMs = Math.min(backoffMs * 2, 30_000);
        scheduleRestart();
      });
    }, backoffMs);
  };

  const stopChild = (): Promise<void> => new Promise((resolve) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) {
      resolve();
      return;
    }
    const t = setTimeout(() => c.kill('SIGKILL'), 3000);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.kill('SIGTERM');
  });

  await spawnReader();
  lastDrops = readQueueDrops(section.queue);
  const monitor = setInterval(() => {
    const drops = readQueueDrops(section.queue);
    if (drops !== null && lastDrops !== null && drops > lastDrops) {
      const delta = drops - lastDrops;
      overruns += delta;
      pendingOverruns += delta;
      log.warn({ overruns: delta, total: overruns }, 'NFQUEUE overrun: the kernel dropped queued packets');
    }
    if (drops !== null) lastDrops = drops;
    const now = Date.now();
    if (pendingOverruns > 0 && now - lastAlertAt >= 10_000) {
      inspectors?.protocolViolation({
        id: nextRequestId(), serverGroup: null, peerIp: '-', clientIp: '-', reason: 'nfqueue-overrun',
        detail: `NFQUEUE ${section.queue}: ${pendingOverruns} packets dropped by the kernel (queue full or reader too slow); ${overruns} in total`,
      });
      pendingOverruns = 0;
      lastAlertAt = now;
    }
    for (const [k, b] of blocked) if (b.until < now) blocked.delete(k);
  }, 1000);
  monitor.unref();
  log.info({ denyIps: section.denyIps.length, denyPorts: section.denyPorts }, 'NFQUEUE verdicts running');

  return {
    blockFlow(flow) {
      if (!section.dropBlockedFlows) return;
      const t: FlowTuple = { clientIp: flow.clientIp, clientPort: flow.clientPort, serverIp: flow.serverIp, serverPort: flow.serverPort };
      blocked.set(`${t.clientIp}|${t.clientPort}|${t.serverIp}|${t.serverPort}`, { flow: t, until: Date.now() + section.blockedFlowTtlMs });
      if (child?.connected) child.send({ type: 'block', flow: t, ttlMs: section.blockedFlowTtlMs });
    },
    stats() {
      const sum = add(base, last);
      totals.accepted = sum.accepted;
      totals.dropped = sum.dropped;
      totals.byReason = sum.byReason;
      return { ...totals, overruns, restarts, running: child !== null };
    },
    readerPid() {
      return child?.pid ?? null;
    },
    async restart() {
      stopping = true;
      await stopChild();
      stopping = false;
      restarts++;
      await spawnReader();
    },
    async stop() {
      stopping = true;
      clearInterval(monitor);
      if (restartTimer) clearTimeout(restartTimer);
      await stopChild();
    },
  };
}

function add(a: { accepted: number; dropped: number; byReason: Record<string, number> }, b: typeof a): typeof a {
  const byReason = { ...a.byReason };
  for (const [k, v] of Object.entries(b.byReason)) byReason[k] = (byReason[k] ?? 0) + v;
  return { accepted: a.accepted + b.accepted, dropped: a.dropped + b.dropped, byReason };
}
