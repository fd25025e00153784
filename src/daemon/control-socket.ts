/**
 * The control socket (`gateway.control.socket`): a unix socket speaking JSON lines. Each request line
 * is an object with a `cmd`; each answer is one line with `ok`. Used by `portcullis reload` and
 * `portcullis status`.
 *
 *   → {"cmd":"reload"}   ← {"ok":true,…} or {"ok":false,"errors":["file:line:col path: message", …]}
 *   → {"cmd":"status"}   ← {"ok":true,"pid":…,"mode":…,…}
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { DaemonError } from './errors.js';

export interface ControlRequest {
  readonly cmd: string;
  readonly [key: string]: unknown;
}

export type ControlReply = { readonly ok: boolean; readonly [key: string]: unknown };

export type ControlHandler = (request: ControlRequest) => Promise<ControlReply>;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** A request line longer than this is refused (the protocol's lines are tiny). */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * Creates the socket's directory, removes a stale socket left by a daemon that died, and listens.
 * Throws ERR_CONTROL_SOCKET when another daemon answers on the path or the socket cannot be created.
 */
export async function openControlSocket(path: string, handler: ControlHandler, logger: Logger): Promise<ControlServer> {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new DaemonError('ERR_CONTROL_SOCKET', `cannot create the control socket directory ${dirname(path)}: ${(err as Error).message}`, [], { cause: err });
  }
  if (existsSync(path)) {
    if (await answers(path)) {
      throw new DaemonError('ERR_CONTROL_SOCKET', `another daemon is already running: its control socket ${path} answers`);
    }
    unlinkSync(path);
  }
  const server = net.createServer((socket) => serveConnection(socket, handler, logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new DaemonError('ERR_CONTROL_SOCKET', `cannot listen on the control socket ${path}: ${err.message}`, [], { cause: err })),
    );
    server.listen(path, () => resolve());
  });
  // Reload and status are for the operator (root) only.
  chmodSync(path, 0o600);
  server.on('error', (err) => logger.error({ err }, 'control socket error'));
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // node removes the socket file on close; a crash leaves it, which the next start cleans up.
      }),
  };
}

function serveConnection(socket: net.Socket, handler: ControlHandler, logger: Logger): void {
  let buffered = '';
  let chain = Promise.resolve();
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_LINE_BYTES && !buffered.includes('\n')) {
      socket.end(JSON.stringify({ ok: false, errors: [`request line longer than ${MAX_LINE_BYTES} bytes`] }) + '\n');
      return;
    }
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === '') continue;
      // Answers go out in request order even when a reload takes longer than a status.
      chain = chain.then(async () => {
        const reply = await answer(line, handler, logger);
        if (!socket.destroyed) socket.write(JSON.stringify(reply) + '\n');
      });
    }
  });
}

async function answer(line: string, handler: ControlHandler, logger: Logger): Promise<ControlReply> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return { ok: false, errors: ['the request is not JSON; send one object per line, e.g. {"cmd":"status"}'] };
  }
  if (typeof request !== 'object' || request === null || typeof (request as ControlRequest).cmd !== 'string') {
    return { ok: false, errors: ['the request needs a string "cmd", e.g. {"cmd":"status"}'] };
  }
  try {
    return await handler(request as ControlRequest);
  } catch (err) {
    logger.error({ err, cmd: (request as ControlRequest).cmd }, 'control command failed');
    return { ok: false, errors: [(err as Error)?.message ?? String(err)] };
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Sends one request and returns the reply. Throws ERR_DAEMON_NOT_RUNNING when nothing listens on
 * `path` (missing socket, refused), and ERR_CONTROL_SOCKET for a broken or late answer.
 */
export function controlRequest(path: string, request: ControlRequest, timeoutMs = 120_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let buffered = '';
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(
      () => settle(() => reject(new DaemonError('ERR_CONTROL_SOCKET', `no answer on ${path} within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      settle(() => {
        try {
          resolve(JSON.parse(buffered.slice(0, nl)) as ControlReply);
        } catch {
          reject(new DaemonError('ERR_CONTROL_SOCKET', `the daemon on ${path} sent an answer that is not JSON`));
        }
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      settle(() => {
        const notRunning = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
        reject(
          new DaemonError(
            notRunning ? 'ERR_DAEMON_NOT_RUNNING' : 'ERR_CONTROL_SOCKET',
            notRunning ? `no daemon is running (nothing listens on ${path})` : `control socket ${path}: ${err.message}`,
            [],
            { cause: err },
          ),
        );
      }),
    );
    socket.once('end', () =>
      settle(() => reject(new DaemonError('ERR_CONTROL_SOCKET', `the daemon on ${path} closed the connection without answering`))),
    );
  });
}
