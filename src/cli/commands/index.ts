/** Every `portcullis` sub-command, in the order `portcullis --help` lists them. Add new ones here. */
import type { CliCommand } from '../command.js';
import { aliasesCommand } from './aliases.js';
import { captureCommand } from './capture.js';
import { checkConfigCliCommand } from './check-config.js';
import { demoCommand } from './demo.js';
import { healthLogCommand } from './health-log.js';
import { reloadCommand } from './reload.js';
import { replayCommand } from './replay.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';

export const COMMANDS: readonly CliCommand[] = [
  runCommand,
  checkConfigCliCommand,
  reloadCommand,
  statusCommand,
  healthLogCommand,
  demoCommand,
  aliasesCommand,
  replayCommand,
  captureCommand,
];
