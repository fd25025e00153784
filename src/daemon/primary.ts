/**
 * The cluster primary (`gateway.workers` > 1). It holds the control socket and the signals, validates
 * configurations, and forks the workers that serve: each worker runs its own Gateway (listeners +
 * runtime), the listening sockets being shared through node:cluster.
 *
 * Scheduling is SCHED_NONE: the primary hands the listening socket to every worker and the kernel
 * spreads the connections, instead of the primary accepting and passing each one on (round-robin),
 * which would put every connection through this one process.
 *
 * Workers always run the exact text the primary validated last, so a worker re-forked after a crash
 * runs the configuration the others run even if the file changed on disk since.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { GatewayConfig } from '../config/types.js';
import { componentLogger, createRootLogger } from '../log/logger.js';
import { checkAliasAddresses } from './address-check.js';
import { openControlSocket, type ControlServer } from './control-socket.js';
import { controlHandler } from './control-commands.js';
import type { DaemonIo, RunDaemonOptions } from './daemon.js';
import { errorLines } from './errors.js';
import { loadGatewayConfig, type GatewayStatus, type ReloadResult } from './gateway.js';
import { installProcessHandlers } from './process-signals.js';
import { isWorkerMessage, type PrimaryToWorker, type WorkerToPrimary } from './worker-protocol.js';
import { readFileSync } from 'node:fs';
import { HEALTH_LOG_CAPACITY, type HealthLogEntry } from '../pools/health-log.js';

const WORKER_ENTRY = fileURLToPath(new URL(`./worker-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** Longest wait for a worker to start or reload (rule sets can take seconds to compile). */
const WORKER_REPLY_MS = 120_000;
/** A worker that lived this long before dying restarts the backoff from its minimum. */
const HEALTHY_LIFETIME_MS = 30_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;

interface Member {
  readonly worker: Worker;
  readonly forkedAt: number;
  ready: boolean;
}

type Reply = WorkerToPrimary | { readonly type: 'exited'; readonly code: number | null; readonly signal: string | null };

export async function runPrimary(initial: GatewayConfig, io: DaemonIo, options: RunDaemonOptions): Promise<number> {
  const root = createRootLogger(initial, { worker: 'primary' });
  const log = componentLogger(root.logger, 'primary');
  try {
    checkAliasAddresses(initial);
  } catch (err) {
    for (const line of errorLines(err)) io.stderr.write(`${line}\n`);
    await root.close();
    return 1;
  }
  if (options.runtimeFactory) log.warn('a runtime override applies to one-process mode only; workers run the configured mode');

  const file = initial.sourceFile;
  let text = readFileSync(file, 'utf8');
  let config = initial;
  let loadedAt = new Date();
  let lastReload: ReloadResult | null = null;
  let stopping = false;
  let failures = 0;
  const startedAt = Date.now();
  const members = new Map<number, Member>();
  /** Waiters for a worker's next reply of a kind, keyed by `${workerId}:${seq}` (or `${workerId}:start`). */
  const waiters = new Map<string, (reply: Reply) => void>();
  let seq = 0;

  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ exec: WORKER_ENTRY, args: [] });

  cluster.on('message', (worker, message: unknown) => {
    if (!isWorkerMessage(message)) return;
    if (message.type === 'waiting') {
      worker.send({ type: 'start', file, text } satisfies PrimaryToWorker);
      return;
    }
    const key = message.type === 'started' || message.type === 'start-failed' ? `${worker.id}:start` : `${worker.id}:${message.seq}`;
    waiters.get(key)?.(message);
  });

  function ask(worker: Worker, key: string, message: PrimaryToWorker | null, timeoutMs = WORKER_REPLY_MS): Promise<Reply | null> {
    return new Promise((resolve) => {
      const done = (reply: Reply | null) => {
        clearTimeout(timer);
        waiters.delete(`${worker.id}:${key}`);
        worker.off('exit', onExit);
        resolve(reply);
      };
      const onExit = (code: number | null, signal: string | null) => done({ type: 'exited', code, signal });
      const timer = setTimeout(() => done(null), timeoutMs);
      waiters.set(`${worker.id}:${key}`, done);
      worker.once('exit', onExit);
      if (message) worker.send(message);
    });
  }

  /** Forks one worker on the current text; resolves with its start errors (empty = serving). */
  async function fork(): Promise<string[]> {
    const worker = cluster.fork();
    const member: Member = { worker, forkedAt: Date.now(), ready: false };
    members.set(worker.id, member);
    // 'start' goes out when the worker says 'waiting': its module (loaded asynchronously) must have
    // installed the message handler first, and cluster's 'online' comes before that.
    const reply = await ask(worker, 'start', null);
    if (reply?.type === 'started') {
      member.ready = true;
      return [];
    }
    if (!worker.isDead()) worker.kill('SIGKILL');
    if (reply?.type === 'start-failed') return [...reply.errors];
    if (reply?.type === 'exited') return [`worker ${worker.id} exited while starting (code ${reply.code}, signal ${reply.signal})`];
    return [`worker ${worker.id} did not start within ${WORKER_REPLY_MS} ms`];
  }

  cluster.on('exit', (worker, code, signal) => {
    const member = members.get(worker.id);
    members.delete(worker.id);
    if (stopping || member === undefined || !member.ready) return;
    const lived = Date.now() - member.forkedAt;
    failures = lived > HEALTHY_LIFETIME_MS ? 0 : failures + 1;
    const delay = Math.min(BACKOFF_MIN_MS * 2 ** failures, BACKOFF_MAX_MS);
    log.error({ workerId: worker.id, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker died; forking a new one');
    const refork = async (): Promise<void> => {
      if (stopping) return;
      const errors = await fork();
      if (errors.length > 0) {
        failures++;
        const again = Math.min(BACKOFF_MIN_MS * 2 ** failures, BACKOFF_MAX_MS);
        log.error({ errors, restartInMs: again }, 'replacement worker failed to start');
        setTimeout(() => void refork(), again).unref();
      }
    };
    setTimeout(() => void refork(), delay).unref();
  });

  const count = initial.gateway.workers;
  const startErrors = (await Promise.all(Array.from({ length: count }, () => fork()))).flat();
  if (startErrors.length > 0) {
    stopping = true;
    for (const line of dedupe(startErrors)) io.stderr.write(`${line}\n`);
    await stopWorkers(0);
    await root.close();
    return 1;
  }

  async function reloadWorkers(nextText: string): Promise<{ ok: Worker[]; errors: string[]; changes: Pick<ReloadResult, 'listenersAdded' | 'listenersRemoved'> }> {
    const live = [...members.values()].filter((m) => m.ready).map((m) => m.worker);
    const id = ++seq;
    const replies = await Promise.all(
      live.map(async (w) => ({ w, reply: await ask(w, String(id), { type: 'reload', seq: id, file, text: nextText }) })),
    );
    const ok: Worker[] = [];
    const errors: string[] = [];
    // Every worker runs the same listeners, so any successful worker's changes are the daemon's.
    let changes: Pick<ReloadResult, 'listenersAdded' | 'listenersRemoved'> = { listenersAdded: [], listenersRemoved: [] };
    for (const { w, reply } of replies) {
      if (reply?.type === 'reloaded' && reply.result.ok) {
        ok.push(w);
        changes = reply.result;
      }
      else if (reply?.type === 'reloaded') errors.push(...reply.result.errors);
      else errors.push(`worker ${w.id} did not answer the reload`);
    }
    return { ok, errors: dedupe(errors), changes: { listenersAdded: changes.listenersAdded, listenersRemoved: changes.listenersRemoved } };
  }

  let queue: Promise<unknown> = Promise.resolve();
  function reload(): Promise<ReloadResult> {
    const run = queue.then(async (): Promise<ReloadResult> => {
      const t0 = Date.now();
      const result = (errors: string[], changes: Pick<ReloadResult, 'listenersAdded' | 'listenersRemoved'> = { listenersAdded: [], listenersRemoved: [] }): ReloadResult => {
        lastReload = { ok: errors.length === 0, at: new Date().toISOString(), durationMs: Date.now() - t0, errors, ...changes };
        if (errors.length > 0) log.error({ errors }, 'reload rejected; the running configuration stays');
        else log.info({ durationMs: lastReload.durationMs }, 'configuration reloaded in every worker');
        return lastReload;
      };
      let nextText: string;
      let next: GatewayConfig;
      try {
        nextText = readFileSync(file, 'utf8');
        next = loadGatewayConfig({ file, text: nextText });
        checkAliasAddresses(next);
      } catch (err) {
        return result(errorLines(err));
      }
      const { ok, errors, changes } = await reloadWorkers(nextText);
      if (errors.length > 0) {
        // Keep every worker on one configuration: put the ones that switched back on the running text.
        for (const w of ok) void ask(w, String(++seq), { type: 'reload', seq, file, text });
        return result(errors);
      }
      text = nextText;
      config = next;
      loadedAt = new Date();
      root.setLevel(next.gateway.log.level);
      if (next.gateway.workers !== members.size) log.warn({ workers: next.gateway.workers }, 'gateway.workers changed: takes effect after a restart');
      return result([], changes);
    });
    queue = run.catch(() => undefined);
    return run;
  }

  async function status(): Promise<Record<string, unknown>> {
    const id = ++seq;
    const statuses: GatewayStatus[] = [];
    await Promise.all(
      [...members.values()].filter((m) => m.ready).map(async (m) => {
        const reply = await ask(m.worker, String(id), { type: 'status', seq: id }, 5000);
        if (reply?.type === 'status') statuses.push(reply.status);
      }),
    );
    statuses.sort((a, b) => Number(a.worker) - Number(b.worker));
    return {
      pid: process.pid,
      worker: 'primary',
      mode: config.gateway.mode,
      configFile: file,
      startedAt: new Date(startedAt).toISOString(),
      uptimeMs: Date.now() - startedAt,
      loadedAt: loadedAt.toISOString(),
      workers: members.size,
      listeners: statuses[0]?.listeners ?? [],
      inFlight: statuses.reduce((n, s) => n + s.inFlight, 0),
      requestsServed: statuses.reduce((n, s) => n + s.requestsServed, 0),
      inspection: statuses[0]?.inspection ?? false,
      lastReload,
      workerStatus: statuses,
    };
  }

  /**
   * Each worker checks its pools and keeps its own ring: the answer merges them by time, each entry
   * tagged with its worker. The cursor (`after`, `lastSeq`) is an object of per-worker sequence numbers.
   */
  async function healthLog(request: { readonly [key: string]: unknown }): Promise<Record<string, unknown>> {
    const id = ++seq;
    const after = typeof request['after'] === 'object' && request['after'] !== null ? request['after'] as Record<string, unknown> : {};
    const cursor: Record<string, number> = {};
    const entries: Array<HealthLogEntry & { worker: string }> = [];
    await Promise.all(
      [...members.values()].filter((m) => m.ready).map(async (m) => {
        const key = String(m.worker.id);
        const from = typeof after[key] === 'number' ? after[key] as number : 0;
        const reply = await ask(m.worker, String(id), { type: 'health-log', seq: id, after: from }, 5000);
        if (reply?.type !== 'health-log') return;
        cursor[key] = reply.lastSeq;
        for (const e of reply.entries) entries.push({ ...e, worker: key });
      }),
    );
    entries.sort((a, b) => a.time - b.time || Number(a.worker) - Number(b.worker) || a.seq - b.seq);
    return { capacity: HEALTH_LOG_CAPACITY, workers: members.size, lastSeq: cursor, entries };
  }

  async function stopWorkers(graceMs: number): Promise<void> {
    const exits = [...members.values()].map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.worker.isDead()) return resolve();
          const timer = setTimeout(() => m.worker.kill('SIGKILL'), graceMs + 5000);
          m.worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (m.worker.isConnected()) m.worker.send({ type: 'stop' } satisfies PrimaryToWorker);
          else m.worker.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }

  let control: ControlServer;
  try {
    control = await openControlSocket(
      config.gateway.control.socket,
      controlHandler({
        reload: async () => ({ ...(await reload()) }),
        status: async () => ({ ok: true, ...(await status()) }),
        'health-log': async (request) => ({ ok: true, ...(await healthLog(request)) }),
      }),
      log,
    );
  } catch (err) {
    for (const line of errorLines(err)) io.stderr.write(`${line}\n`);
    stopping = true;
    await stopWorkers(0);
    await root.close();
    return 1;
  }

  let resolveStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (resolveStop = resolve));
  const uninstall =
    options.installSignals === false
      ? () => {}
      : installProcessHandlers(log, { onReload: () => void reload(), onStop: () => resolveStop() });
  log.info({ workers: members.size, controlSocket: control.path }, 'daemon ready');
  options.onReady?.({ stop: resolveStop, config });
  await stopRequested;
  stopping = true;
  await control.close();
  await stopWorkers(config.gateway.timeouts.shutdownGraceMs);
  log.info('stopped');
  uninstall();
  await root.close();
  return 0;
}

/** Workers report the same problem once each; show it once. */
function dedupe(lines: readonly string[]): string[] {
  return [...new Set(lines)];
}
