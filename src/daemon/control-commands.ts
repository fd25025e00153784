/**
 * The control socket's commands, as a registry: each supervisor (one process, cluster primary)
 * supplies its implementation of every command; unknown commands get a clear answer.
 */
import type { ControlHandler, ControlReply, ControlRequest } from './control-socket.js';

export interface ControlCommands {
  readonly reload: (request: ControlRequest) => Promise<ControlReply>;
  readonly status: (request: ControlRequest) => Promise<ControlReply>;
  /** The cyclic health log of the pools (src/pools/health-log.ts); {"cmd":"health-log","after":N}. */
  readonly 'health-log': (request: ControlRequest) => Promise<ControlReply>;
}

export function controlHandler(commands: ControlCommands): ControlHandler {
  const table = new Map<string, (request: ControlRequest) => Promise<ControlReply>>(Object.entries(commands));
  return async (request) => {
    const command = table.get(request.cmd);
    if (command === undefined) {
      return { ok: false, errors: [`unknown command "${request.cmd}"; known: ${[...table.keys()].join(', ')}`] };
    }
    return command(request);
  };
}
