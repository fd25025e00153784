/**
 * The root pino logger of a daemon process, configured by `gateway.log`, and the helpers that derive
 * child loggers from it. Every line carries `pid`, `mode` and `worker` (the cluster worker id, or
 * "primary" / "single") so lines from several workers written to one file can be told apart.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { GatewayConfig, LogLevel } from '../config/types.js';
import type { RenderableLine } from './json-line.js';

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
  let ownFile: LogFile | null = null;
  if (options.destination) {
    destination = options.destination;
  } else if (file !== null) {
    mkdirSync(dirname(file), { recursive: true });
    ownFile = new LogFile(file);
    destination = ownFile;
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
      const logFile = ownFile;
      if (logFile === null) return;
      ownFile = null;
      logFile.close();
    },
  };
}

/** A batch is written out when it reaches this many characters, else LOG_FLUSH_MS after its first line. */
export const LOG_BATCH_CHARS = 64 * 1024;
/** The longest a line waits in memory (nginx: `access_log … buffer=… flush=…`). */
export const LOG_FLUSH_MS = 20;
/** What a line to be rendered later counts towards LOG_BATCH_CHARS (an access line is 300-400). */
const LATER_LINE_CHARS = 400;

/** Open log files, written out when the process exits (a crash that runs no JavaScript loses ≤ LOG_FLUSH_MS). */
const openFiles = new Set<LogFile>();
let exitHookInstalled = false;
function writeOutAll(): void {
  for (const file of openFiles) file.flush();
}

/**
 * The log file, opened O_APPEND so that lines from several workers stay whole in one file. pino's lines
 * are joined in memory and written with one synchronous write(2) when LOG_BATCH_CHARS are pending or
 * LOG_FLUSH_MS after the first pending line, whichever comes first — what nginx does with a buffered
 * access log. A busy worker thus makes one system call for the hundreds of access lines of 20 ms, and no
 * thread-pool round trip per write (an asynchronous fs write hands each chunk to a libuv thread and
 * wakes the loop again when it is done, which on a loaded two-core machine cost more than the write
 * itself); writing once per event-loop turn instead cost a timer callback and an ext4 append per few
 * requests (≈3 µs CPU per proxied GET, docs/RATIONALE.md "Proxy hot path"). The prices: a disk that
 * blocks would block the worker for that write (page-cache appends do not), and a process killed without
 * running JavaScript (SIGKILL, OOM) loses the lines of its last LOG_FLUSH_MS; an exit, even after an
 * uncaught exception, writes them out. pino.destination (sonic-boom) was measured worse.
 */
export class LogFile implements DestinationStream {
  #fd: number | null;
  /** Lines not yet written: strings from pino, LaterLines rendered when written out. */
  #pending: Array<string | RenderableLine> = [];
  /** Characters pending (a LaterLine counted as LATER_LINE_CHARS until rendered). */
  #pendingChars = 0;
  #timer: NodeJS.Timeout | null = null;
  #reported = false;
  readonly #writeOutLater = (): void => {
    this.#timer = null;
    this.#writeOut();
  };

  constructor(readonly path: string) {
    try {
      this.#fd = openSync(path, 'a');
    } catch (err) {
      // Like a failed write: reported once, and the daemon serves without its log rather than not at all.
      this.#fd = null;
      this.#report(err as Error);
      return;
    }
    openFiles.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', writeOutAll);
    }
  }

  write(line: string): void {
    this.#add(line, line.length);
  }

  /** A line rendered when the batch is written out (json-line.ts LaterLine), in order with the others. */
  writeLater(line: RenderableLine): void {
    this.#add(line, LATER_LINE_CHARS);
  }

  #add(line: string | RenderableLine, chars: number): void {
    // After close() lines have nowhere to go.
    if (this.#fd === null) return;
    this.#pending.push(line);
    this.#pendingChars += chars;
    if (this.#pendingChars >= LOG_BATCH_CHARS) this.#writeOut();
    else if (this.#timer === null) {
      this.#timer = setTimeout(this.#writeOutLater, LOG_FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** Writes what is pending; `cb` runs once it is in the file. */
  flush(cb?: (err?: Error) => void): void {
    this.#writeOut();
    cb?.();
  }

  /** Writes what is pending and closes the file; later lines are dropped. */
  close(): void {
    this.#writeOut();
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    openFiles.delete(this);
    const fd = this.#fd;
    this.#fd = null;
    if (fd !== null) {
      try { closeSync(fd); } catch { /* already gone: nothing left to lose */ }
    }
  }

  #writeOut(): void {
    const lines = this.#pending;
    if (lines.length === 0) return;
    this.#pending = [];
    this.#pendingChars = 0;
    const fd = this.#fd;
    if (fd === null) return;
    try {
      let chunk = '';
      for (const line of lines) chunk += typeof line === 'string' ? line : line.render();
      const bytes = Buffer.from(chunk, 'utf8');
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (err) {
      // Disk full, file system gone: say so once (stderr is all that is left), keep serving.
      this.#report(err as Error);
    }
  }

  #report(err: Error): void {
    if (this.#reported) return;
    this.#reported = true;
    process.stderr.write(`portcullis: cannot write the log file ${this.path}: ${err.message}; log lines are lost\n`);
  }
}

/** Child logger for one component ("listeners", "reload", "control" …). */
export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}

/** Child logger for one accepted connection; the pipeline adds the request id per request. */
export function connectionLogger(parent: Logger, peerIp: string, peerPort: number, listener: string): Logger {
  return parent.child({ peerIp, peerPort, listener });
}
