import { runDaemon } from '../../daemon/daemon.js';
import { CONFIG_FLAG, configFileOf, parseFlags } from '../args.js';
import type { CliCommand } from '../command.js';

export const runCommand: CliCommand = {
  name: 'run',
  summary: 'run the gateway daemon in the foreground',
  help: `Usage: portcullis run [-c FILE]

Runs the gateway on a configuration file until SIGTERM or SIGINT (Ctrl-C).

Options:
  -c, --config FILE   configuration (default: $PORTCULLIS_CONFIG or config/portcullis.yaml)
  -h, --help          show this help

Signals: SIGHUP reloads the configuration; SIGTERM/SIGINT stop after in-flight requests finish
(gateway.timeouts.shutdownGraceMs); a second SIGTERM/SIGINT exits at once.

Exit codes: 0 stopped cleanly, 1 could not start (every error is printed), 2 usage error.`,
  async run(argv, io) {
    const { values } = parseFlags('run', argv, CONFIG_FLAG);
    return runDaemon(configFileOf(values.config), io);
  },
};
