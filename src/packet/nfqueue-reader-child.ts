/**
 * The NFQUEUE reader, in its own process. The `nfqueue` binding has no close(): the only clean way to
 * release the queue (and let `--queue-bypass` pass traffic) is to end the process that bound it, so
 * the reader lives in a child that the daemon can stop and restart at will. Verdicts are decided
 * here, per packet, from the rules the parent sent; the parent adds blocked flows over IPC.
 *
 * Messages in:  { type: 'block', flow, ttlMs }
 * Messages out: { type: 'ready' } | { type: 'error', message } | { type: 'stats', ... } (every second)
 */
import { createRequire } from 'node:module';
import { NfqueueRules, type DropReason, type FlowTuple } from './nfqueue-rules.js';

interface ChildOptions {
  readonly queue: number;
  readonly denyIps: string[];
  readonly denyPorts: number[];
}

type Incoming = { type: 'block'; flow: FlowTuple; ttlMs: number };

const send = (m: object) => {
  if (process.send && process.connected) process.send(m);
};

function main(): void {
  const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
  const rules = new NfqueueRules(options.denyIps, options.denyPorts);
  let accepted = 0;
  let dropped = 0;
  const byReason: Record<DropReason, number> = { 'deny-ip': 0, 'deny-port': 0, 'blocked-flow': 0 };
  let nfq: typeof import('nfqueue');
  try {
    const require = createRequire(import.meta.url);
    nfq = require('nfqueue') as typeof import('nfqueue');
  } catch (err) {
    send({ type: 'error', message: `the nfqueue module is not available: ${(err as Error).message} (install libnetfilter-queue-dev and rebuild: npm rebuild nfqueue)` });
    process.exit(1);
  }
  const { NF_ACCEPT, NF_DROP } = nfq;
  try {
    nfq.createQueueHandler(options.queue, 65535, (packet) => {
      const reason = rules.verdict(packet.payload);
      if (reason === null) {
        accepted++;
        packet.setVerdict(NF_ACCEPT);
      } else {
        dropped++;
        byReason[reason]++;
        packet.setVerdict(NF_DROP);
      }
    });
  } catch (err) {
    const msg = (err as Error).message;
    send({ type: 'error', message: `cannot bind NFQUEUE ${options.queue}: ${msg}${/unbind|bind/i.test(msg) ? ' (needs CAP_NET_ADMIN; is another reader bound to this queue?)' : ''}` });
    process.exit(1);
  }
  process.on('message', (m: Incoming) => {
    if (m.type === 'block') rules.blockFlow(m.flow, m.ttlMs);
  });
  // The daemon went away: release the queue (the kernel then bypasses it).
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  setInterval(() => {
    rules.sweep();
    send({ type: 'stats', accepted, dropped, byReason, blockedFlows: rules.blockedFlows });
  }, 1000);
  send({ type: 'ready' });
}

main();
