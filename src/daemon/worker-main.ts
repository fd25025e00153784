/**
 * Entry point of a cluster worker. The worker runs a Gateway (listeners + runtime) on the exact
 * configuration text the primary validated, and obeys the primary: it ignores terminal signals (Ctrl-C
 * reaches the whole process group; the primary coordinates the stop) and stops when the primary goes.
 */
import cluster from 'node:cluster';
import { DaemonError, errorLines } from './errors.js';
import { Gateway } from './gateway.js';
import type { PrimaryToWorker, WorkerToPrimary } from './worker-protocol.js';

const workerId = String(cluster.worker?.id ?? process.pid);
let gateway: Gateway | null = null;
let stopping = false;

function send(message: WorkerToPrimary): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await gateway?.stop();
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
process.on('disconnect', () => void stop(0));
process.on('uncaughtException', (err) => gateway?.logger.error({ err }, 'uncaught exception (a bug): logged, the worker keeps running'));
process.on('unhandledRejection', (err) => gateway?.logger.error({ err }, 'unhandled promise rejection (a bug): logged, the worker keeps running'));

process.on('message', (raw: PrimaryToWorker) => {
  void (async () => {
    switch (raw.type) {
      case 'start':
        try {
          gateway = await Gateway.start({ file: raw.file, text: raw.text }, { worker: workerId, checkAddresses: false });
          await send({ type: 'started' });
        } catch (err) {
          stopping = true;
          await send({ type: 'start-failed', errors: errorLines(err), code: err instanceof DaemonError ? err.code : 'ERR_WORKER_FAILED' });
          process.exit(1);
        }
        return;
      case 'reload':
        if (gateway === null) return;
        await send({ type: 'reloaded', seq: raw.seq, result: await gateway.reload({ file: raw.file, text: raw.text }) });
        return;
      case 'status':
        if (gateway === null) return;
        await send({ type: 'status', seq: raw.seq, status: gateway.status() });
        return;
      case 'health-log':
        if (gateway === null) return;
        await send({ type: 'health-log', seq: raw.seq, lastSeq: gateway.healthLog.lastSeq, entries: gateway.healthLog.entries(raw.after) });
        return;
      case 'stop':
        await stop(0);
        return;
    }
  })();
});

void send({ type: 'waiting' });
