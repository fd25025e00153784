/** Shared by `reload` and `status`: one control request, with "no daemon" mapped to exit code 3. */
import type { ControlReply } from '../../daemon/control-socket.js';
import { DaemonError } from '../../daemon/errors.js';
import { EXIT, type CliIo } from '../command.js';

export async function askDaemon(
  io: CliIo,
  socket: string,
  request: () => Promise<ControlReply>,
  onReply: (reply: ControlReply) => number,
): Promise<number> {
  let reply: ControlReply;
  try {
    reply = await request();
  } catch (err) {
    if (err instanceof DaemonError && err.code === 'ERR_DAEMON_NOT_RUNNING') {
      io.stderr.write(`portcullis: ${err.message}; start it with "portcullis run" (or pass --socket PATH)\n`);
      return EXIT.notRunning;
    }
    io.stderr.write(`portcullis: ${(err as Error).message} (control socket ${socket})\n`);
    return EXIT.failure;
  }
  return onReply(reply);
}
