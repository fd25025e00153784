/**
 * A request as the front end hands it to the pipeline: head fields set once by the parser, the
 * lower-case `headers` object built on first access, and the body as 'data' / 'end' events with
 * pause/resume back-pressure onto the connection's reads.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { equalsLowerCase } from './ascii-case.js';
import { Listeners, type Listener } from './listeners.js';
import type { GatewayRequest } from './types.js';

/** What a request needs from its connection. */
export interface RequestOwner {
  readonly socket: Socket;
  /** Re-evaluates whether the connection should read (a request paused or resumed). */
  updateReading(): void;
  /** A listener threw outside the parser (a bug): costs the connection. */
  bug(err: unknown, where: string): void;
}

const END = Symbol('end');

export class Http1Request implements GatewayRequest {
  readonly httpVersion: string;
  #headers: IncomingHttpHeaders | null = null;
  /** True once the whole message (head and body) was parsed. */
  complete = false;
  /** llhttp's verdict: the client allows the connection to stay open after this request. */
  keepAlive = true;
  /** Readable's flowing state: null until 'data' is listened to or resume() is called; false = paused. */
  flowing: boolean | null = null;
  /** Body bytes the response no longer needs (answered before the body ended): read and dropped. */
  dumping = false;
  /** Delivered to the pipeline (false while queued behind an earlier request on the connection). */
  dispatched = false;
  /** Chunks (and the end marker) parsed while paused or before dispatch. */
  #pending: Array<Buffer | typeof END> | null = null;
  #flushScheduled = false;
  #ended = false;
  #timer: NodeJS.Timeout | null = null;
  #onData: Listeners | null = null;
  #onEnd: Listeners | null = null;
  #onError: Listeners | null = null;

  constructor(
    private readonly owner: RequestOwner,
    readonly method: string,
    readonly url: string,
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    readonly rawHeaders: string[],
  ) {
    this.httpVersion = httpVersionMajor === 1 && httpVersionMinor === 1 ? '1.1'
      : httpVersionMajor === 1 && httpVersionMinor === 0 ? '1.0' : `${httpVersionMajor}.${httpVersionMinor}`;
  }

  get socket(): Socket {
    return this.owner.socket;
  }

  get headers(): IncomingHttpHeaders {
    return (this.#headers ??= headersObject(this.rawHeaders));
  }

  /**
   * `headers[lowerName]` for one field, found by a scan of rawHeaders that allocates nothing: the
   * pipeline reads a handful of fields per request, and building the whole object costs more. A field
   * that occurs twice takes node:http's joining rules (through `headers`).
   */
  header(lowerName: string): string | undefined {
    if (this.#headers !== null) return this.#headers[lowerName] as string | undefined;
    const raw = this.rawHeaders;
    let found = -1;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (!equalsLowerCase(name, lowerName)) continue;
      if (found >= 0) return this.headers[lowerName] as string | undefined;
      found = i;
    }
    return found < 0 ? undefined : raw[found + 1];
  }

  // ---- events ---------------------------------------------------------------------------------------

  on(event: 'data' | 'end' | 'error', listener: Listener): this {
    this.#listeners(event).add(listener, false);
    // Like a Readable, attaching 'data' starts the flow (unless paused explicitly).
    if (event === 'data' && this.flowing !== false) this.resume();
    return this;
  }

  once(event: 'data' | 'end' | 'error', listener: Listener): this {
    this.#listeners(event).add(listener, true);
    return this;
  }

  removeListener(event: 'data' | 'end' | 'error', listener: Listener): this {
    this.#listeners(event).remove(listener);
    return this;
  }

  off(event: 'data' | 'end' | 'error', listener: Listener): this {
    return this.removeListener(event, listener);
  }

  #listeners(event: 'data' | 'end' | 'error'): Listeners {
    switch (event) {
      case 'data':
        return (this.#onData ??= new Listeners());
      case 'end':
        return (this.#onEnd ??= new Listeners());
      case 'error':
        return (this.#onError ??= new Listeners());
      default:
        throw new TypeError(`GatewayRequest has no '${String(event)}' event`);
    }
  }

  pause(): this {
    if (this.flowing !== false) {
      this.flowing = false;
      this.owner.updateReading();
    }
    return this;
  }

  /** Starts the flow; with no 'data' listener the body is read and dropped (as with a Readable). */
  resume(): this {
    if (this.flowing !== true) {
      this.flowing = true;
      if (this.#pending !== null) this.#scheduleFlush();
      this.owner.updateReading();
    }
    return this;
  }

  isPaused(): boolean {
    return this.flowing === false;
  }

  /** Whether the connection should read more of this request's body now. */
  get wantsBody(): boolean {
    return this.dumping || (this.dispatched && this.flowing === true);
  }

  setTimeout(ms: number, callback?: () => void): this {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (ms > 0 && callback !== undefined) {
      this.#timer = setTimeout(() => {
        try {
          callback();
        } catch (err) {
          this.owner.bug(err, 'request timeout');
        }
      }, ms);
      this.#timer.unref();
    }
    return this;
  }

  // ---- fed by the connection ------------------------------------------------------------------------

  /** A body chunk from the parser. */
  push(chunk: Buffer): void {
    if (this.#timer !== null) this.#timer.refresh();
    if (this.dumping) return;
    if (this.flowing !== true || !this.dispatched || this.#pending !== null) {
      (this.#pending ??= []).push(chunk);
      return;
    }
    this.#onData?.emit(chunk);
  }

  /** The message is complete. */
  finish(): void {
    this.complete = true;
    if (this.flowing !== true || !this.dispatched || this.#pending !== null) {
      (this.#pending ??= []).push(END);
      return;
    }
    this.#end();
  }

  /** Delivers what was parsed before the pipeline got the request. */
  dispatch(): void {
    this.dispatched = true;
    if (this.#pending !== null && this.flowing === true) this.#scheduleFlush();
  }

  /** The connection died before the body ended (node:http: 'aborted' then an ECONNRESET error). */
  abort(): void {
    this.setTimeout(0);
    if (this.complete || this.#ended) return;
    this.#ended = true;
    this.#pending = null;
    if (this.#onError !== null && this.#onError.size > 0) {
      const err = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      this.#onError.emit(err);
    }
  }

  /** Drops the rest of the body (the response is already complete). */
  dump(): void {
    this.dumping = true;
    this.#pending = null;
    this.#onData = null;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd?.emit();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // Asynchronous like Readable.resume(): a resume() called from inside a consumer's own callback
    // (undici pulling the next body chunk) must not re-enter it.
    process.nextTick(flushRequest, this);
  }

  /** @internal */
  ownerBug(err: unknown): void {
    this.owner.bug(err, 'request body');
  }

  /** @internal */
  flushPending(): void {
    this.#flushScheduled = false;
    let pending = this.#pending;
    if (pending === null || this.#ended || !this.dispatched) return;
    let i = 0;
    while (i < pending.length && this.flowing === true && this.#pending === pending) {
      const item = pending[i++]!;
      if (item === END) this.#end();
      else if (this.dumping) continue;
      else this.#onData?.emit(item);
    }
    if (this.#pending !== pending) return; // dumped or aborted by a listener
    pending = pending.slice(i);
    this.#pending = pending.length === 0 ? null : pending;
    if (this.#pending === null) this.owner.updateReading();
  }
}

function flushRequest(req: Http1Request): void {
  try {
    req.flushPending();
  } catch (err) {
    req.ownerBug(err);
  }
}

/**
 * node:http's field joining (lib/_http_incoming.js, joinDuplicateHeaders off): these fields keep their
 * first value and drop duplicates; Set-Cookie is an array; Cookie is joined with '; '; everything else
 * with ', '.
 */
const FIRST_WINS: ReadonlySet<string> = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

export function headersObject(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const have = out[name];
    if (have === undefined) {
      out[name] = name === 'set-cookie' ? [value] : value;
    } else if (name === 'set-cookie') {
      (have as string[]).push(value);
    } else if (FIRST_WINS.has(name)) {
      continue;
    } else {
      out[name] = `${have as string}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return out as IncomingHttpHeaders;
}
