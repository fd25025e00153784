import { checkConfigCommand } from '../check-config.js';
import type { CliCommand } from '../command.js';

export const checkConfigCliCommand: CliCommand = {
  name: 'check-config',
  summary: 'validate a configuration file and list every error',
  help: `Usage: portcullis check-config [-c FILE] [--json]

Loads and validates a configuration without starting anything.

Options:
  -c, --config FILE   configuration (default: $PORTCULLIS_CONFIG or config/portcullis.yaml)
  -h, --help          show this help

Exit codes: 0 valid, 1 invalid (every error is listed as file:line:column key.path: message), 2 usage error.`,
  run: (argv, io) => checkConfigCommand(argv, io),
};
