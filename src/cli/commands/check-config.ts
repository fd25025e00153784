import { CHECK_CONFIG_USAGE, checkConfigCommand } from '../check-config.js';
import type { CliCommand } from '../command.js';

/** The command itself lives in src/cli/check-config.ts (with the configuration loader). */
export const checkConfigCliCommand: CliCommand = {
  name: 'check-config',
  summary: 'validate a configuration file and list every error',
  help: CHECK_CONFIG_USAGE.trimEnd(),
  run: (argv, io) => checkConfigCommand(argv, io),
};
