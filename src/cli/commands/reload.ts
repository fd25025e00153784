import { controlRequest } from '../../daemon/control-socket.js';
import { CONFIG_FLAG, configFileOf, parseFlags } from '../args.js';
import { EXIT, type CliCommand } from '../command.js';
import { controlSocketOf } from '../control-target.js';
import { askDaemon } from './ask-daemon.js';

export const reloadCommand: CliCommand = {
  name: 'reload',
  summary: 'make the running daemon re-read its configuration',
  help: `Usage: portcullis reload [-c FILE] [--socket PATH] [--json]

Asks the running daemon to re-read and validate its configuration file and to switch to it
atomically. A file with errors is rejected: the daemon keeps running its current configuration and
the errors are printed here. In-flight requests and idle keep-alive connections are not dropped.

Options:
  -c, --config FILE   configuration whose gateway.control.socket to use
                      (default: $PORTCULLIS_CONFIG or config/portcullis.yaml)
      --socket PATH   control socket (overrides the configuration)
      --json          print the daemon's answer as JSON
  -h, --help          show this help

Exit codes: 0 reloaded, 1 rejected (errors printed), 2 usage error, 3 no daemon running.`,
  async run(argv, io) {
    const { values } = parseFlags('reload', argv, { ...CONFIG_FLAG, socket: { type: 'string' }, json: { type: 'boolean' } });
    const socket = controlSocketOf(values.socket, configFileOf(values.config));
    return askDaemon(io, socket, () => controlRequest(socket, { cmd: 'reload' }), (reply) => {
      if (values.json) io.stdout.write(JSON.stringify(reply) + '\n');
      const errors = Array.isArray(reply['errors']) ? (reply['errors'] as unknown[]).map(String) : [];
      if (!reply.ok) {
        if (!values.json) {
          io.stderr.write('reload rejected; the daemon keeps its running configuration:\n');
          for (const e of errors) io.stderr.write(`  ${e}\n`);
        }
        return EXIT.failure;
      }
      if (!values.json) {
        const added = (reply['listenersAdded'] as string[] | undefined) ?? [];
        const removed = (reply['listenersRemoved'] as string[] | undefined) ?? [];
        io.stdout.write(`reloaded in ${String(reply['durationMs'])} ms`);
        if (added.length > 0) io.stdout.write(`; listeners added: ${added.join(', ')}`);
        if (removed.length > 0) io.stdout.write(`; listeners removed: ${removed.join(', ')}`);
        io.stdout.write('\n');
      }
      return EXIT.ok;
    });
  },
};
