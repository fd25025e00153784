/**
 * One `portcullis` sub-command. Each lives in its own file under src/cli/commands/ and is listed in
 * src/cli/commands/index.ts; main.ts only dispatches.
 */
import type { Writable } from 'node:stream';

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export interface CliCommand {
  readonly name: string;
  /** One line for `portcullis --help`. */
  readonly summary: string;
  /** Full text for `portcullis NAME --help`. */
  readonly help: string;
  /** Internal commands (used by scripts) are not listed in `portcullis --help`. */
  readonly hidden?: boolean;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** `reload` / `status`: no daemon answers on the control socket. */
  notRunning: 3,
} as const;

/** A mistake on the command line: exit 2 with a message that names it and points at --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_USAGE';
}
