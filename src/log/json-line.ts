/**
 * Writing a log line whose fields the caller has already serialized, framed exactly as pino frames
 * `logger[level](fields, msg)`: `{"level":N` + time + the logger's bindings + extra bindings + fields +
 * `,"msg":…}` + newline, handed to the logger's own destination. The access log writes one line per
 * request; pino's generic serializer (a type switch, a serializer and stringifier lookup and a key escape
 * per field) cost several µs of CPU per line where the pipeline, knowing its fields and their types,
 * needs a few hundred ns (docs/RATIONALE.md, "Proxy hot path").
 *
 * Only for a logger that pino would write the same way: no mixin, log formatter, logMethod or
 * streamWrite hook, nested key, message prefix, redaction, serializers or metadata-hungry destination
 * (multistream). `PlainLines.of()` answers null for any other, and the caller logs through pino.
 */
import pino, { type Logger } from 'pino';

const {
  lsCacheSym, timeSym, chindingsSym, streamSym, endSym, messageKeySym, nestedKeySym, mixinSym, formattersSym,
  hooksSym, stringifiersSym, serializersSym, needsMetadataGsym,
} = pino.symbols;

/** A pino instance seen through the integration keys pino exports (pino.symbols). */
type PinoInternals = Record<symbol, unknown>;
type LineStream = { write(line: string): void; writeLater?(line: RenderableLine): void } & Record<symbol, unknown>;

/** A log line a batching destination renders when it writes its batch out. */
export interface RenderableLine {
  render(): string;
}

/**
 * A line whose fields are serialized when its destination writes its batch out, not when it is logged:
 * serializing a batch of access lines in one loop, away from the socket and parser code each request
 * runs, measured 6 µs of CPU less per proxied GET than serializing each line in its request (the same
 * work, done with warm caches). What can change after logging is taken at once: the time, the
 * logger's bindings, the message; the record must not change (the pipeline's records are fresh objects).
 */
export class LaterLine<T> implements RenderableLine {
  constructor(private readonly level: string, private readonly time: string, private readonly chindings: string,
    private readonly bindings: string, private readonly record: T, private readonly fields: (record: T) => string,
    private readonly tail: string) {}

  /** The line, as PlainLines.info would have written it. */
  render(): string {
    return `${this.level}${this.time}${this.chindings}${this.bindings}${this.fields(this.record)}${this.tail}`;
  }
}

/**
 * `s` as a JSON string literal: JSON.stringify's output, built without calling it when nothing needs
 * escaping (the common case for hosts, paths, ids and addresses).
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Control characters, '"', '\\' and surrogates (a lone one is escaped by JSON.stringify).
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

const checked = new WeakMap<Logger, PlainLines | null>();

export class PlainLines {
  /**
   * The writer for `logger`, or null when pino would not write `(fields, msg)` as plain concatenation
   * (see the module comment). Decided once per logger: what is checked is fixed at its creation.
   */
  static of(logger: Logger): PlainLines | null {
    let lines = checked.get(logger);
    if (lines === undefined) {
      lines = plain(logger as unknown as PinoInternals, logger) ? new PlainLines(logger) : null;
      checked.set(logger, lines);
    }
    return lines;
  }

  private readonly internals: PinoInternals;
  private readonly msgKey: string;

  private constructor(readonly logger: Logger) {
    this.internals = logger as unknown as PinoInternals;
    this.msgKey = `,${jsonString(this.internals[messageKeySym] as string)}:`;
  }

  /** Whether `logger.info(…)` would write (the level may change on reload). */
  infoEnabled(): boolean {
    return this.logger.isLevelEnabled('info');
  }

  /**
   * Writes at level info what `logger.child(bindings).info(fields, msg)` writes, given `bindings` and
   * `fields` each as `,"key":value` pairs (JSON, keys unique and not pino's own) and `msg` without
   * format directives. The caller checks infoEnabled() first.
   */
  /**
   * info(bindings, fields(record), msg), with `fields(record)` called when the destination writes the
   * line out if it batches (a LogFile: `writeLater`), else at once.
   */
  infoLater<T>(bindings: string, record: T, fields: (record: T) => string, msg: string): void {
    const p = this.internals;
    const stream = p[streamSym] as LineStream;
    if (stream.writeLater === undefined) {
      this.info(bindings, fields(record), msg);
      return;
    }
    const level = (p[lsCacheSym] as Record<number, string>)[30]!;
    const time = (p[timeSym] as () => string)();
    const end = p[endSym] as string;
    if (msg !== this.lastMsg || end !== this.lastEnd) {
      this.lastMsg = msg;
      this.lastEnd = end;
      this.lastTail = `${this.msgKey}${jsonString(msg)}${end}`;
    }
    stream.writeLater(new LaterLine(level, time, p[chindingsSym] as string, bindings, record, fields, this.lastTail));
  }

  /** The message and end of the last infoLater line, serialized (the access log's is always the same). */
  private lastMsg = '';
  private lastEnd = '';
  private lastTail = '';

  info(bindings: string, fields: string, msg: string): void {
    const p = this.internals;
    const level = (p[lsCacheSym] as Record<number, string>)[30];
    const time = (p[timeSym] as () => string)();
    (p[streamSym] as LineStream).write(
      `${level}${time}${p[chindingsSym] as string}${bindings}${fields}${this.msgKey}${jsonString(msg)}${p[endSym] as string}`);
  }
}

function plain(p: PinoInternals, logger: Logger): boolean {
  const levels = p[lsCacheSym] as Record<number, unknown> | undefined;
  const formatters = p[formattersSym] as { log?: unknown } | undefined;
  const hooks = p[hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | null | undefined;
  const stringifiers = p[stringifiersSym] as object | undefined;
  const serializers = p[serializersSym] as Record<string, unknown> | undefined;
  const stream = p[streamSym] as Partial<LineStream> | undefined;
  return logger.levels.values['info'] === 30 && typeof levels?.[30] === 'string' && typeof p[timeSym] === 'function' &&
    typeof p[chindingsSym] === 'string' && typeof p[endSym] === 'string' && typeof p[messageKeySym] === 'string' &&
    !p[nestedKeySym] && !p[mixinSym] && formatters?.log === undefined &&
    (hooks === undefined || hooks === null || (!hooks.logMethod && !hooks.streamWrite)) &&
    stringifiers !== undefined && Reflect.ownKeys(stringifiers).length === 0 &&
    serializers !== undefined && noSerializersBut(serializers, ['err']) &&
    logger.msgPrefix === undefined && typeof stream?.write === 'function' && stream[needsMetadataGsym] !== true;
}

/** pino applies a serializer by field name: the caller's fields must not have one (pino's default `err` aside). */
function noSerializersBut(serializers: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const key in serializers) if (!allowed.includes(key)) return false;
  return true;
}
