/**
 * The root pino logger of a daemon process, configured by `gateway.log`, and the helpers that derive
 * child loggers from it. Every line carries `pid`, `mode` and `worker` (the cluster worker id, or
 * "primary" / "single") so lines from several workers written to one file can be told apart.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
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

let stampedAt = -1;
let stamp = '';
/**
 * pino's isoTime formats a Date per line (about a third of the cost of serializing an access line);
 * lines logged within the same millisecond share one formatted stamp.
 */
function isoTimeOncePerMillisecond(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

export function createRootLogger(config: GatewayConfig, options: RootLoggerOptions): RootLogger {
  const file = config.gateway.log.file;
  let destination: DestinationStream;
  let ownFile: WriteStream | null = null;
  if (options.destination) {
    destination = options.destination;
  } else if (file !== null) {
    mkdirSync(dirname(file), { recursive: true });
    ownFile = openLogFile(file);
    destination = flushableDestination(ownFile);
  } else {
    destination = pino.destination({ dest: 1, sync: false });
  }
  const logger = pino(
    {
      level: config.gateway.log.level,
      base: { pid: process.pid, mode: config.gateway.mode, worker: options.worker },
      timestamp: isoTimeOncePerMillisecond,
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
      if (stream.closed) return;
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        if (!stream.destroyed) stream.end();
      });
    },
  };
}

/**
 * The log file: node's fs.WriteStream, opened O_APPEND so that lines from several workers stay whole
 * in one file. While one write is in flight the next lines queue and leave together in one writev.
 * pino.destination (sonic-boom) does the same batching but measures the byte length of its whole pending
 * buffer again for every line it appends: with a busy proxy that cost more per access line than
 * serializing it (docs/RATIONALE.md, "Proxy hot path").
 */
function openLogFile(file: string): WriteStream {
  const stream = createWriteStream(file, { flags: 'a' });
  let reported = false;
  // Without a listener a write error (disk full, file system gone) would be thrown out of the event loop.
  stream.on('error', (err) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`portcullis: cannot write the log file ${file}: ${err.message}; log lines are lost from here on\n`);
  });
  return stream;
}

/**
 * pino writes lines; they are joined in memory and handed to the file stream once per event-loop turn
 * (or every 64 KiB), so a busy worker makes one stream write — one Buffer, one write request, one
 * thread-pool job — for the dozens of access lines one turn produces, instead of one per line.
 * `flush(cb)` calls back once everything written before it is in the file.
 */
export const LOG_BATCH_BYTES = 64 * 1024;

export function flushableDestination(stream: WriteStream): DestinationStream & { flush(cb: (err?: Error) => void): void } {
  let pending = '';
  let scheduled = false;
  const writeOut = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending;
    pending = '';
    // After close() (or a write error) lines have nowhere to go; the stream would report each one.
    if (!stream.writableEnded && !stream.destroyed) stream.write(chunk);
  };
  return {
    write(line: string): void {
      pending += line;
      if (pending.length >= LOG_BATCH_BYTES) writeOut();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(writeOut);
      }
    },
    flush(cb: (err?: Error) => void): void {
      writeOut();
      if (stream.writableEnded || stream.destroyed) return cb();
      // An empty chunk is queued behind every pending line: its callback marks the point they were written.
      stream.write('', (err) => cb(err ?? undefined));
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
