import { parseArgs } from 'node:util';
import pino from 'pino';
import { formatConfigError, loadConfigFile } from '../../config/load.js';
import { PacketError } from '../../packet/packet-errors.js';
import type { Alert } from '../../policy/alerts.js';
import { configFileOf } from '../args.js';
import { EXIT, UsageError, type CliCommand, type CliIo } from '../command.js';
import { progressBar } from './progress.js';

export const replayCommand: CliCommand = {
  name: 'replay',
  summary: 'run a pcap file through reassembly, HTTP parsing and the policy engine',
  help: `Usage: portcullis replay FILE.pcap [-c FILE] [--json]

Reads a classic pcap capture (tcpdump -w, portcullis capture), reassembles the TCP flows to the
protected servers of the configuration (serverGroups[].servers × services[].ports), parses HTTP/1.1
and runs every request through the server group's policies, in the group's operation mode. Prints
each alert, then a summary: packets, flows, requests, alerts by rule id, reassembly gaps.
Nothing is blocked: a request an active group would block is reported as blocked, and the flow's
later requests are still inspected. Use it to try a policy on recorded traffic before going active.

Options:
  -c, --config FILE   configuration (default $PORTCULLIS_CONFIG or config/portcullis.yaml)
      --json          one JSON object per alert, then {"summary": …} (for scripts)
  -h, --help          show this help

A progress bar is drawn on stderr for files over 1 MiB when stderr is a terminal.
Exit codes: 0 replayed (alerts or not), 1 unreadable capture or configuration, 2 usage error.`,
  async run(argv, io) {
    let values: { config?: string; json?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv, allowPositionals: true, strict: true,
        options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
      }));
    } catch (err) {
      const e = err as Error & { code?: string };
      throw new UsageError(e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `unknown option ${/'([^']+)'/.exec(e.message)?.[1] ?? ''} for "portcullis replay"`
        : `replay: ${e.message}`);
    }
    if (positionals.length !== 1) throw new UsageError('replay needs exactly one capture file: portcullis replay FILE.pcap');
    const file = positionals[0]!;
    const configFile = configFileOf(values.config);
    const loaded = loadConfigFile(configFile);
    if (!loaded.ok) {
      for (const e of loaded.errors) io.stderr.write(`${formatConfigError(e)}\n`);
      return EXIT.failure;
    }
    const logger = pino({ level: 'warn' }, pino.destination(2));
    const { replayPcap } = await import('../../packet/replay.js');
    const { ProtectedEndpoints } = await import('../../packet/protected-endpoints.js');
    if (new ProtectedEndpoints(loaded.config).size === 0) {
      io.stderr.write(`portcullis: ${configFile} protects no server port: replay needs serverGroups[].servers and services[].ports\n`);
      return EXIT.failure;
    }
    const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
    const bar = tty ? progressBar(io.stderr) : null;
    try {
      const summary = await replayPcap(file, loaded.config, {
        logger,
        onAlert: (alert) => {
          bar?.clear();
          io.stdout.write(values.json ? `${JSON.stringify(alert)}\n` : `${formatAlert(alert)}\n`);
        },
        onProgress: (read, size) => { if (size > 1024 * 1024) bar?.update(read, size); },
      });
      bar?.done();
      if (values.json) io.stdout.write(`${JSON.stringify({ summary: { ...summary, durationMs: Math.round(summary.durationMs) } })}\n`);
      else printSummary(io, summary);
      return EXIT.ok;
    } catch (err) {
      bar?.done();
      if (err instanceof PacketError) {
        io.stderr.write(`portcullis: ${err.message}\n`);
        return EXIT.failure;
      }
      throw err;
    }
  },
};

export function formatAlert(a: Alert): string {
  const msgs = a.messages.filter((m) => m !== '').join('; ');
  return `${a.time} ${a.action.padEnd(8)} [${a.ruleIds.join(',')}] ${a.clientIp} ${a.method ?? '-'} ${a.uri ?? '-'} group=${a.serverGroup ?? '-'}${msgs ? ` ${JSON.stringify(msgs)}` : ''}`;
}

function printSummary(io: CliIo, s: Awaited<ReturnType<typeof import('../../packet/replay.js').replayPcap>>): void {
  const byRule = Object.entries(s.alertsByRule).sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]));
  const r = s.stats.reassembly;
  const lines = [
    '',
    `file         ${s.file}${s.truncatedFile ? ' (TRUNCATED: the last packet was cut)' : ''}`,
    `packets      ${s.packets} (${s.bytes} bytes; not TCP to a protected server: ${Object.values(s.stats.packets.skipped).reduce((x, y) => x + y, 0)} undecodable)`,
    `flows        ${s.flows} (TLS, not inspected: ${s.stats.http.tlsFlows})`,
    `requests     ${s.requests} (responses ${s.responses}, would be blocked ${s.blocked})`,
    `alerts       ${s.alerts}`,
    ...byRule.map(([id, n]) => `  rule ${id.padEnd(8)} ${n}`),
    `reassembly   gaps ${r.gaps} (${r.gapBytes} bytes), retransmitted ${r.retransmittedBytes} bytes, overlaps ${r.overlapBytes} bytes`,
    `protocol     violations ${s.stats.http.violations}`,
    `time         ${(s.durationMs / 1000).toFixed(2)} s`,
  ];
  io.stdout.write(lines.join('\n') + '\n');
}
