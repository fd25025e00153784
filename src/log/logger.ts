/**
 * The root pino logger of a daemon process, configured by `gateway.log`, and the helpers that derive
 * child loggers from it. Every line carries `pid`, `mode` and `worker` (the cluster worker id, or
 * "primary" / "single") so lines from several workers written to one file can be told apart.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { GatewayConfig, LogLevel } from '../config/types.js';

export type { Logger } from 'pino';

export interface RootLoggerOptions {
  /** Cluster worker id, "primary", or "single" for a one-process daemon. */
  readonly worker: string;
  /** Overrides `gateway.log.file` (tests write to a stream they read back). */
  readonly destination?: DestinationStream;
}

export interface RootLogger {
  readonly logger: Logger;
  /** Log file path, or null for stdout; a change needs a restart (the open file is kept on reload). */
  readonly file: string | null;
  /** Applies the log level of a reloaded configuration. */
  setLevel(level: LogLevel): void;
  /** Writes out buffered lines (the destination is asynchronous). */
  flush(): Promise<void>;
  /** Flushes and closes a log file (stdout and a given destination stay open). Log nothing after it. */
  close(): Promise<void>;
}

export function createRootLogger(config: GatewayConfig, options: RootLoggerOptions): RootLogger {
  const file = config.gateway.log.file;
  let destination: DestinationStream;
  let ownFile: ReturnType<typeof pino.destination> | null = null;
  if (options.destination) {
    destination = options.destination;
  } else if (file !== null) {
    mkdirSync(dirname(file), { recursive: true });
    // Appending with O_APPEND keeps lines from several workers whole in one file.
    ownFile = pino.destination({ dest: file, sync: false, append: true, mkdir: true });
    destination = ownFile;
  } else {
    destination = pino.destination({ dest: 1, sync: false });
  }
  const logger = pino(
    {
      level: config.gateway.log.level,
      base: { pid: process.pid, mode: config.gateway.mode, worker: options.worker },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
  return {
    logger,
    file,
    setLevel(level) {
      logger.level = level;
    },
    flush() {
      return new Promise<void>((resolve) => {
        logger.flush((err) => {
          void err; // a flush failure has nowhere better to be reported than the log it failed to write
          resolve();
        });
      });
    },
    async close() {
      await this.flush();
      const stream = ownFile;
      if (stream === null) return;
      ownFile = null;
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.once('error', () => resolve());
        stream.end();
      });
    },
  };
}

/** Child logger for one component ("listeners", "reload", "control" …). */
export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}

/** Child logger for one accepted connection; the pipeline adds the request id per request. */
export function connectionLogger(parent: Logger, peerIp: string, peerPort: number, listener: string): Logger {
  return parent.child({ peerIp, peerPort, listener });
}
