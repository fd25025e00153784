/**
 * `portcullis health-log`: the running daemon's cyclic health log (the last 3000 pool health checks),
 * read over the control socket. `--follow` keeps asking for the entries after the last one shown.
 */
import { controlRequest, type ControlReply } from '../../daemon/control-socket.js';
import { DaemonError } from '../../daemon/errors.js';
import type { HealthLogEntry } from '../../pools/health-log.js';
import { CONFIG_FLAG, configFileOf, parseFlags } from '../args.js';
import { EXIT, UsageError, type CliIo } from '../command.js';
import type { CliCommand } from '../command.js';
import { controlSocketOf } from '../control-target.js';
import { askDaemon } from './ask-daemon.js';

export const healthLogCommand: CliCommand = {
  name: 'health-log',
  summary: 'show the last 3000 pool health checks of the running daemon',
  help: `Usage: portcullis health-log [-c FILE] [--socket PATH] [--json] [--follow [--interval MS]]

Prints the running daemon's cyclic health log, oldest first: one line per HTTP health check of a pool
server, with the time, the gateway's address:port (the local end of the check's connection), the
server's address:port, the URL, the result (status, or the error when no answer came) and the latency.
The log holds the last 3000 checks and is overwritten in a cycle; it survives reloads.

Options:
  -c, --config FILE   configuration whose gateway.control.socket to use
      --socket PATH   control socket (overrides the configuration)
      --json          one JSON object per line (fields: seq, time, gateway, server, url, status, error, ok, latencyMs)
  -f, --follow        keep printing new checks as they happen (until interrupted or the daemon stops)
      --interval MS   how often --follow asks the daemon (default 1000)
  -h, --help          show this help

Exit codes: 0 ok, 1 the daemon did not answer properly, 2 usage error, 3 no daemon running.`,
  async run(argv, io) {
    const { values } = parseFlags('health-log', argv, {
      ...CONFIG_FLAG, socket: { type: 'string' }, json: { type: 'boolean' }, follow: { type: 'boolean', short: 'f' },
      interval: { type: 'string' },
    });
    const intervalMs = values.interval === undefined ? 1000 : Number(values.interval);
    if (!Number.isInteger(intervalMs) || intervalMs < 50 || intervalMs > 3_600_000) {
      throw new UsageError(`--interval must be a number of milliseconds from 50 to 3600000 (got ${JSON.stringify(values.interval)})`);
    }
    const socket = controlSocketOf(values.socket, configFileOf(values.config));
    // The cursor is whatever `lastSeq` the daemon gave: a number, or per-worker numbers in cluster mode.
    const ask = (after: unknown) => controlRequest(socket, { cmd: 'health-log', after }, 10_000);
    const print = (entries: readonly HealthLogEntry[]): void => {
      if (entries.length === 0) return;
      io.stdout.write(entries.map((e) => (values.json ? JSON.stringify(e) : formatEntry(e))).join('\n') + '\n');
    };
    let last: unknown = 0;
    const code = await askDaemon(io, socket, () => ask(0), (reply) => {
      if (!reply.ok) return failed(io, reply);
      const entries = reply['entries'] as HealthLogEntry[];
      if (entries.length === 0 && !values.json && !values.follow) io.stderr.write('the health log is empty (no pool has a healthCheck, or none ran yet)\n');
      print(entries);
      last = reply['lastSeq'];
      return EXIT.ok;
    });
    if (code !== EXIT.ok || !values.follow) return code;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      let reply: ControlReply;
      try {
        reply = await ask(last);
      } catch (err) {
        if (err instanceof DaemonError && err.code === 'ERR_DAEMON_NOT_RUNNING') {
          io.stderr.write('portcullis: the daemon stopped\n');
          return EXIT.ok;
        }
        io.stderr.write(`portcullis: ${(err as Error).message} (control socket ${socket})\n`);
        return EXIT.failure;
      }
      if (!reply.ok) return failed(io, reply);
      const entries = reply['entries'] as HealthLogEntry[];
      // The ring overtook us between two polls: say so rather than pretend the log is contiguous.
      if (typeof last === 'number' && entries.length > 0 && entries[0]!.seq > last + 1 && !values.json) {
        io.stderr.write(`(${entries[0]!.seq - last - 1} entries were overwritten before they could be shown)\n`);
      }
      print(entries);
      last = reply['lastSeq'];
    }
  },
};

function failed(io: CliIo, reply: ControlReply): number {
  const errors = Array.isArray(reply['errors']) ? (reply['errors'] as string[]) : [JSON.stringify(reply)];
  io.stderr.write(`portcullis: health-log failed: ${errors.join('; ')}\n`);
  return EXIT.failure;
}

/** "2026-11-21T06:20:27.123Z  127.0.0.1:41234 -> 127.0.0.1:8081  http://127.0.0.1:8081/healthz  200 ok  1.2 ms" */
export function formatEntry(e: HealthLogEntry): string {
  const result = e.status !== null ? `${e.status} ${e.ok ? 'ok' : 'FAILED'}` : `FAILED ${e.error ?? ''}`;
  // Cluster mode: each worker checks on its own; say which one did.
  const worker = (e as { worker?: string }).worker;
  return `${new Date(e.time).toISOString()}  ${worker !== undefined ? `worker ${worker}  ` : ''}${e.gateway || '-'} -> ${e.server}  ${e.url}  ${result}  ${e.latencyMs.toFixed(1)} ms`;
}
