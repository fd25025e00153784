import { controlRequest } from '../../daemon/control-socket.js';
import { CONFIG_FLAG, configFileOf, parseFlags } from '../args.js';
import { EXIT, type CliCommand } from '../command.js';
import { controlSocketOf } from '../control-target.js';
import { askDaemon } from './ask-daemon.js';

interface ListenerLine {
  key: string;
  port: number;
  tls: boolean;
  requestsServed: number;
}

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'show what the running daemon is doing',
  help: `Usage: portcullis status [-c FILE] [--socket PATH] [--json]

Prints the running daemon's pid, mode, uptime, configuration file and when it was loaded, workers,
listeners, requests in flight and served, the result of the last reload, and the mode's own counters
(sniff mode: packets, pcap drops, flows, reassembly gaps, bytes inspected, resets).

Options:
  -c, --config FILE   configuration whose gateway.control.socket to use
      --socket PATH   control socket (overrides the configuration)
      --json          print the status as one JSON object (for scripts)
  -h, --help          show this help

Exit codes: 0 ok, 1 the daemon did not answer properly, 2 usage error, 3 no daemon running.`,
  async run(argv, io) {
    const { values } = parseFlags('status', argv, { ...CONFIG_FLAG, socket: { type: 'string' }, json: { type: 'boolean' } });
    const socket = controlSocketOf(values.socket, configFileOf(values.config));
    return askDaemon(io, socket, () => controlRequest(socket, { cmd: 'status' }, 10_000), (reply) => {
      if (values.json) {
        io.stdout.write(JSON.stringify(reply) + '\n');
        return reply.ok ? EXIT.ok : EXIT.failure;
      }
      if (!reply.ok) {
        io.stderr.write(`portcullis: status failed: ${JSON.stringify(reply['errors'])}\n`);
        return EXIT.failure;
      }
      const last = reply['lastReload'] as { ok: boolean; at: string; errors: string[] } | null;
      const listeners = (reply['listeners'] as ListenerLine[] | undefined) ?? [];
      const lines = [
        `pid          ${String(reply['pid'])}`,
        `mode         ${String(reply['mode'])}`,
        `uptime       ${formatDuration(Number(reply['uptimeMs']))}`,
        `config       ${String(reply['configFile'])} (loaded ${String(reply['loadedAt'])})`,
        `workers      ${String(reply['workers'])}`,
        `inspection   ${reply['inspection'] ? 'on' : 'off (policy engine not loaded)'}`,
        `in flight    ${String(reply['inFlight'])}`,
        `served       ${String(reply['requestsServed'])} requests`,
        `last reload  ${last === null ? 'none' : last.ok ? `ok at ${last.at}` : `REJECTED at ${last.at}: ${last.errors.length} error(s)`}`,
        `listeners    ${listeners.length === 0 ? 'none' : ''}`,
        ...listeners.map((l) => `  ${l.key}${l.tls ? ' (TLS)' : ''}${l.port !== Number(l.key.split(':').pop()) ? ` bound to port ${l.port}` : ''}`),
      ];
      if (last !== null && !last.ok) lines.push(...last.errors.map((e) => `  reload error: ${e}`));
      const modeStats = reply['modeStats'] as Record<string, number> | null | undefined;
      if (modeStats) lines.push(`${String(reply['mode'])} stats`, ...Object.entries(modeStats).map(([k, v]) => `  ${k.padEnd(16)} ${v}`));
      io.stdout.write(lines.join('\n') + '\n');
      return EXIT.ok;
    });
  },
};

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m ${s % 60}s` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}
