import { runDemo } from '../../demo/run-demo.js';
import { CONFIG_FLAG, configFileOf, parseFlags } from '../args.js';
import type { CliCommand } from '../command.js';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'run a demo origin and the gateway in front of it (what `npm start` runs)',
  help: `Usage: portcullis demo [-c FILE]

Starts a small demo origin where the configuration sends traffic (its first outbound rule to a
loopback address) and the gateway in front of it, then prints what to try. With the default
config/portcullis.yaml: the origin on 127.0.0.1:8081, the gateway on 127.0.0.1:8080.
Ctrl-C stops both.

Options:
  -c, --config FILE   configuration (default: $PORTCULLIS_CONFIG or config/portcullis.yaml)
  -h, --help          show this help

Exit codes: 0 stopped with Ctrl-C, 1 could not start (errors printed), 2 usage error.`,
  async run(argv, io) {
    const { values } = parseFlags('demo', argv, CONFIG_FLAG);
    return runDemo(configFileOf(values.config), io);
  },
};
