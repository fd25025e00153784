/**
 * A response written straight onto the client socket, framed as node:http frames it: Content-Length
 * when the head has one; otherwise chunked for HTTP/1.1 (each write re-chunked), close-delimited for
 * HTTP/1.0; no body for HEAD, 1xx, 204 and 304; a Date header unless the head has one; Connection:
 * keep-alive (with Keep-Alive: timeout=N) or close. The head is kept until the first body bytes or end(),
 * so head and body leave in one write.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Listeners, type Listener } from './listeners.js';
import type { Http1Request } from './request.js';
import type { GatewayResponse, ResponseHeaders } from './types.js';

/** What a response needs from its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** The client allows keep-alive for `req` and the server is not draining or closing. */
  keepAliveAllowed(req: Http1Request): boolean;
  /** "Connection: keep-alive\r\nKeep-Alive: timeout=N\r\n" for the current keep-alive timeout. */
  keepAliveLines(): string;
  /** Receives the final write's completion (one bound function per connection). */
  readonly onFinalWrite: (err?: Error | null) => void;
}

/** RFC 9110 token (node's checkIsHttpToken). */
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
/** Anything but HTAB, visible ASCII and obs-text (node's checkInvalidHeaderChar). */
const INVALID_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const CLOSE_TOKEN = /(?:^|\W)close(?:$|\W)/i;
const CHUNKED_TOKEN = /(?:^|\W)chunked(?:$|\W)/i;

const enum Framing {
  /** HEAD, 1xx, 204, 304: whatever is written is dropped. */
  None,
  Length,
  Chunked,
  /** The body ends when the connection closes (HTTP/1.0 without Content-Length). */
  UntilClose,
}

let dateCache = '';
function resetDate(): void {
  dateCache = '';
}
/** The Date header value, formatted at most once a second (node:http's utcDate()). */
export function httpDate(): string {
  if (dateCache === '') {
    const now = new Date();
    dateCache = now.toUTCString();
    setTimeout(resetDate, 1000 - now.getMilliseconds()).unref();
  }
  return dateCache;
}

export class HeaderError extends TypeError {
  constructor(readonly code: 'ERR_INVALID_HTTP_TOKEN' | 'ERR_INVALID_CHAR' | 'ERR_HTTP_INVALID_HEADER_VALUE'
    | 'ERR_HTTP_INVALID_STATUS_CODE' | 'ERR_HTTP_HEADERS_SENT', message: string) {
    super(message);
  }
}

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

export class Http1Response implements GatewayResponse {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  /** Close the connection after this response. */
  last = false;
  ended = false;
  #head: string | null = null;
  #framing = Framing.None;
  #needDrain = false;
  #closed = false;
  #onClose: Listeners | null = null;
  #onDrain: Listeners | null = null;

  constructor(private readonly owner: ResponseOwner, private readonly req: Http1Request) {}

  writeHead(status: number, statusText?: string | ResponseHeaders, headers?: ResponseHeaders): this {
    if (this.headersSent) throw new HeaderError('ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
    let text: string | undefined;
    if (typeof statusText === 'string') text = statusText;
    else headers = statusText;
    const code = status | 0;
    if (code < 100 || code > 999) throw new HeaderError('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${status}`);
    if (text === undefined || text.length === 0) text = STATUS_CODES[code] ?? 'unknown';
    else if (INVALID_CHAR.test(text)) throw new HeaderError('ERR_INVALID_CHAR', 'Invalid character in statusMessage');

    let head = `HTTP/1.1 ${code} ${text}\r\n`;
    let hasDate = false;
    let hasLength = false;
    let te = 0; // 0 none, 1 chunked, 2 other coding
    let connection = 0; // 0 none, 1 close, 2 other
    const add = (name: string, value: unknown): void => {
      if (typeof name !== 'string' || !TOKEN.test(name)) {
        throw new HeaderError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${String(name)}"]`);
      }
      if (value === undefined || value === null) {
        throw new HeaderError('ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "${String(value)}" for header "${name}"`);
      }
      const v = typeof value === 'string' ? value : String(value);
      if (INVALID_CHAR.test(v)) throw new HeaderError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'date') hasDate = true;
          break;
        case 10:
          if (name.toLowerCase() === 'connection') connection = CLOSE_TOKEN.test(v) ? 1 : Math.max(connection, 2);
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') hasLength = true;
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') te = CHUNKED_TOKEN.test(v) ? 1 : 2;
          break;
      }
      head += `${name}: ${v}\r\n`;
    };
    if (headers !== undefined && headers !== null) {
      if (Array.isArray(headers)) {
        const list = headers as readonly string[];
        if (list.length % 2 !== 0) throw new HeaderError('ERR_HTTP_INVALID_HEADER_VALUE', 'headers list has an odd length');
        for (let i = 0; i < list.length; i += 2) add(list[i]!, list[i + 1]);
      } else {
        const record = headers as Readonly<Record<string, string | number | readonly string[]>>;
        for (const name of Object.keys(record)) {
          const value = record[name];
          if (Array.isArray(value)) for (const v of value) add(name, v);
          else add(name, value);
        }
      }
    }

    const req = this.req;
    const http11 = req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
    // An HTTP/1.0 client understands chunked only when it said so (node: `TE: chunked`).
    const chunkedAllowed = http11 || CHUNKED_TOKEN.test(req.header('te') ?? '');
    const hasBody = req.method !== 'HEAD' && code !== 204 && code !== 304 && (code < 100 || code > 199);
    let last = false;
    if (connection === 1) {
      last = true;
    } else if (connection === 0) {
      if (this.owner.keepAliveAllowed(req) && (hasLength || chunkedAllowed)) {
        head += this.owner.keepAliveLines();
      } else {
        last = true;
        head += 'Connection: close\r\n';
      }
    } else if (!this.owner.keepAliveAllowed(req)) {
      last = true;
    }
    if (!hasDate) head += `Date: ${httpDate()}\r\n`;
    let framing: Framing;
    if (!hasBody) {
      framing = Framing.None;
    } else if (hasLength) {
      framing = Framing.Length;
    } else if (te === 1) {
      framing = Framing.Chunked;
    } else if (te === 2 || !chunkedAllowed) {
      framing = Framing.UntilClose;
      last = true;
    } else {
      head += 'Transfer-Encoding: chunked\r\n';
      framing = Framing.Chunked;
    }
    // Everything validated: only now does the response change.
    this.statusCode = code;
    this.#head = `${head}\r\n`;
    this.#framing = framing;
    this.last = last;
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer | string): boolean {
    if (this.ended || this.destroyed) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (!this.owner.socket.writable) return false;
    return this.#send(chunk);
  }

  #send(chunk: Buffer | string): boolean {
    const socket = this.owner.socket;
    const framing = this.#framing;
    if (framing === Framing.None) return true;
    const length = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (length === 0) return true; // an empty chunk would read as the chunked terminator
    let ok: boolean;
    const head = this.#head;
    this.#head = null;
    if (framing === Framing.Chunked) {
      socket.cork();
      socket.write(`${head ?? ''}${length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write(CRLF, 'latin1');
      socket.uncork();
    } else if (head !== null) {
      socket.cork();
      socket.write(head, 'latin1');
      ok = socket.write(chunk);
      socket.uncork();
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) this.#needDrain = true;
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.ended || this.destroyed) return this;
    if (!this.headersSent) {
      // node:http: end(data) without a head answers with that data's Content-Length.
      const length = chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      this.writeHead(this.statusCode, ['Content-Length', String(length)]);
    }
    this.ended = true;
    const socket = this.owner.socket;
    if (!socket.writable) {
      // The connection is going (a parse error answered, or the peer vanished): 'close' will come from it.
      return this;
    }
    const framing = this.#framing;
    const done = this.owner.onFinalWrite;
    socket.cork();
    if (chunk !== undefined && framing !== Framing.None) this.#send(chunk);
    const head = this.#head;
    this.#head = null;
    if (framing === Framing.Chunked) socket.write(head === null ? LAST_CHUNK : head + LAST_CHUNK, 'latin1', done);
    else if (head !== null) socket.write(head, 'latin1', done);
    else if (socket.writableLength === 0) {
      // Everything was handed to the kernel already: an empty write would cost a write(fd, "", 0) system
      // call per response just to learn that.
      process.nextTick(done, null);
    } else socket.write('', 'latin1', done); // behind bytes still queued (corked or back-pressured)
    socket.uncork();
    return this;
  }

  cork(): void {
    if (!this.destroyed) this.owner.socket.cork();
  }

  uncork(): void {
    if (!this.destroyed) this.owner.socket.uncork();
  }

  destroy(err?: Error): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.owner.socket.destroy(err);
    }
    return this;
  }

  // ---- events ---------------------------------------------------------------------------------------

  on(event: 'close' | 'drain', listener: Listener): this {
    this.#listeners(event).add(listener, false);
    return this;
  }

  once(event: 'close' | 'drain', listener: Listener): this {
    this.#listeners(event).add(listener, true);
    return this;
  }

  removeListener(event: 'close' | 'drain', listener: Listener): this {
    this.#listeners(event).remove(listener);
    return this;
  }

  off(event: 'close' | 'drain', listener: Listener): this {
    return this.removeListener(event, listener);
  }

  #listeners(event: 'close' | 'drain'): Listeners {
    if (event === 'close') return (this.#onClose ??= new Listeners());
    if (event === 'drain') return (this.#onDrain ??= new Listeners());
    throw new TypeError(`GatewayResponse has no '${String(event)}' event`);
  }

  // ---- driven by the connection ---------------------------------------------------------------------

  /** The socket drained: a writer waiting for it may continue. */
  socketDrained(): void {
    if (this.#needDrain && !this.#closed) {
      this.#needDrain = false;
      this.#onDrain?.emit();
    }
  }

  /** Emits 'close' once: `finished` = every byte reached the kernel. */
  close(finished: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    if (finished) this.writableFinished = true;
    this.destroyed = true;
    this.#onClose?.emit();
  }
}
