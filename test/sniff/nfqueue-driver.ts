/**
 * Runs the NFQUEUE verdicts (as sniff mode does) for the lab test, driven over stdin:
 *   "block CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT" → blockFlow;  "restart" → restart the reader;
 *   "pid" → "pid N" (the reader process);  "stats" → prints one JSON line;  "stop" → stops and exits.
 * Usage: nfqueue-driver.ts '{"queue":0,"denyIps":[],"denyPorts":[]}'
 */
import { createInterface } from 'node:readline';
import pino from 'pino';
import type { NfqueueSection } from '../../src/config/types.js';
import { startNfqueueVerdicts } from '../../src/packet/nfqueue-verdicts.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as Partial<NfqueueSection>;
const section: NfqueueSection = {
  enabled: true, queue: 0, denyIps: [], denyPorts: [], dropBlockedFlows: true, blockedFlowTtlMs: 60_000, ...opts,
};
const alerts: object[] = [];
const verdicts = await startNfqueueVerdicts(section, pino({ level: 'silent' }), {
  get: () => undefined,
  protocolViolation: (v) => alerts.push(v),
  close: () => {},
});
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'block') {
    verdicts.blockFlow({ clientIp: args[0]!, clientPort: Number(args[1]), serverIp: args[2]!, serverPort: Number(args[3]) });
    console.log('done');
  } else if (cmd === 'restart') {
    await verdicts.restart();
    console.log('done');
  } else if (cmd === 'pid') {
    console.log(`pid ${verdicts.readerPid()}`);
  } else if (cmd === 'stats') {
    console.log(JSON.stringify({ ...verdicts.stats(), alerts }));
  } else if (cmd === 'stop') {
    await verdicts.stop();
    console.log('stopped');
    process.exit(0);
  }
}
