/**
 * Incremental HTTP/1.x parser for one direction of a reassembled TCP stream (requests from the client,
 * responses from the server). It sees bytes, not sockets: the sniffer and the replay feed it chunks as
 * the reassembler delivers them, and it reports heads, body chunks and message ends.
 *
 * Framing follows RFC 9112 §6: Transfer-Encoding chunked wins over Content-Length (and having both is
 * reported as `request-smuggling`); differing Content-Length values are an error; a response to HEAD,
 * a 1xx, 204 or 304 has no body; a response without length runs until the connection closes.
 * Interim 1xx responses are reported (`informational`) and parsing continues with the final response.
 *
 * After a reassembly gap or a parse error the parser is "lost": it drops bytes until a chunk starts
 * with something that looks like a message start (request line or status line), then resumes.
 */

export type ParserKind = 'request' | 'response';

export interface MessageHead {
  /** Requests: method; responses: ''. */
  readonly method: string;
  /** Requests: target as received; responses: ''. */
  readonly target: string;
  /** Responses: status code; requests: 0. */
  readonly status: number;
  /** "1.0" | "1.1" */
  readonly httpVersion: string;
  /** [name0, value0, name1, value1, …] as received. */
  readonly rawHeaders: string[];
  /** Byte length of the head (start line + headers + empty line). */
  readonly headBytes: number;
}

export interface HttpStreamEvents {
  head(head: MessageHead): void;
  /** A body chunk (de-chunked, still content-encoded); valid only during the call. */
  body(chunk: Buffer): void;
  /** The message is complete (`complete` false when the stream ended or lost its place mid-message). */
  end(complete: boolean): void;
  /** A 1xx interim response (responses only). */
  informational?(status: number): void;
  /** A framing or syntax problem; the parser is lost afterwards. Codes are stable. */
  violation(code: string, detail: string): void;
}

export interface HttpParserLimits {
  readonly maxHeaderBytes: number;
  readonly maxHeaderCount: number;
}

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Lost,
}

const REQUEST_START = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32} [^\s]+ HTTP\/1\.[01]\r?\n/;
const RESPONSE_START = /^HTTP\/1\.[01] \d{3}/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\s]+) HTTP\/(1\.[01])$/;
const STATUS_LINE = /^HTTP\/(1\.[01]) (\d{3})(?: .*)?$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;
const CHUNK_LINE_LIMIT = 1024;

export class HttpStreamParser {
  private state: State = State.Head;
  /**
   * Bytes of the head being read. Allocated on demand and grown up to maxHeaderBytes, and dropped
   * when it grew large: a sniffer holds two parsers per flow, for up to 100 000 flows.
   */
  private headBuf: Buffer | null = null;
  private headLen = 0;
  private remaining = 0;
  private line = '';
  private inMessage = false;
  /** Method of the request each awaited response answers (responses to HEAD have no body). */
  private readonly requestMethods: string[] = [];

  constructor(
    readonly kind: ParserKind,
    private readonly events: HttpStreamEvents,
    private readonly limits: HttpParserLimits,
  ) {}

  /** Responses only: tells the parser which request method the next response answers. */
  expectResponseTo(method: string): void {
    this.requestMethods.push(method);
  }

  get lost(): boolean {
    return this.state === State.Lost;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.state === State.Lost) {
      if (!this.looksLikeStart(chunk)) return;
      this.state = State.Head;
      this.headLen = 0;
    }
    while (pos < chunk.length) {
      switch (this.state) {
        case State.Head:
          pos = this.readHead(chunk, pos);
          break;
        case State.Length: {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.events.body(chunk.subarray(pos, pos + n));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finish(true);
          break;
        }
        case State.ChunkSize:
        case State.Trailers:
        case State.ChunkDataEnd:
          pos = this.readLine(chunk, pos);
          break;
        case State.ChunkData: {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.events.body(chunk.subarray(pos, pos + n));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.line = '';
          }
          break;
        }
        case State.UntilClose:
          this.events.body(pos === 0 ? chunk : chunk.subarray(pos));
          pos = chunk.length;
          break;
        default:
          return; // lost after a violation
      }
    }
  }

  /** Bytes are missing from the stream: the current message cannot be completed reliably. */
  gap(): void {
    if (this.inMessage) this.finish(false);
    this.state = State.Lost;
    this.headLen = 0;
  }

  /** The stream ended (FIN, RST, timeout). A read-until-close body completes here. */
  close(): void {
    if (this.state === State.UntilClose) this.finish(true);
    else if (this.inMessage) this.finish(false);
    this.state = State.Lost;
  }

  private looksLikeStart(chunk: Buffer): boolean {
    const text = chunk.toString('latin1', 0, Math.min(chunk.length, 300));
    return this.kind === 'request' ? REQUEST_START.test(text) : RESPONSE_START.test(text);
  }

  private readHead(chunk: Buffer, pos: number): number {
    // Skip the empty lines a client may send between requests (RFC 9112 §2.2).
    if (this.headLen === 0) {
      while (pos < chunk.length && (chunk[pos] === 0x0d || chunk[pos] === 0x0a)) pos++;
      if (pos === chunk.length) return pos;
    }
    const searchFrom = Math.max(0, this.headLen - 3);
    const max = this.limits.maxHeaderBytes;
    const wanted = Math.min(max, this.headLen + (chunk.length - pos));
    let buf = this.headBuf;
    if (buf === null || buf.length < wanted) {
      const grown = Buffer.allocUnsafe(Math.min(max, Math.max(wanted, buf === null ? 2048 : buf.length * 2)));
      if (buf !== null) buf.copy(grown, 0, 0, this.headLen);
      this.headBuf = buf = grown;
    }
    const n = Math.min(buf.length - this.headLen, chunk.length - pos);
    chunk.copy(buf, this.headLen, pos, pos + n);
    const filled = this.headLen + n;
    const end = findHeadEnd(buf, searchFrom, filled);
    if (end < 0) {
      this.headLen = filled;
      if (filled >= max) {
        this.fail('head-too-large', `the message head exceeds ${max} bytes`);
        return chunk.length;
      }
      return pos + n;
    }
    const consumed = end - this.headLen;
    this.headLen = 0;
    this.parseHead(buf, end);
    if (buf.length > 4096) this.headBuf = null;
    return pos + consumed;
  }

  private parseHead(buf: Buffer, end: number): void {
    const text = buf.toString('latin1', 0, end);
    const lines = text.split(/\r?\n/);
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const start = lines[0] ?? '';
    let method = '';
    let target = '';
    let status = 0;
    let version: string;
    if (this.kind === 'request') {
      const m = REQUEST_LINE.exec(start);
      if (!m) return this.fail('bad-request-line', start.slice(0, 200));
      method = m[1]!;
      target = m[2]!;
      version = m[3]!;
    } else {
      const m = STATUS_LINE.exec(start);
      if (!m) return this.fail('bad-status-line', start.slice(0, 200));
      version = m[1]!;
      status = Number(m[2]);
    }
    const rawHeaders: string[] = [];
    let contentLength: number | null = null;
    let chunked = false;
    let hasTransferEncoding = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.startsWith(' ') || line.startsWith('\t')) return this.fail('obsolete-line-folding', line.slice(0, 200));
      const h = HEADER_LINE.exec(line);
      if (!h) return this.fail('bad-header', line.slice(0, 200));
      const name = h[1]!;
      const value = h[2]!;
      rawHeaders.push(name, value);
      if (rawHeaders.length / 2 > this.limits.maxHeaderCount) return this.fail('too-many-headers', `more than ${this.limits.maxHeaderCount} headers`);
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        const values = value.split(',').map((v) => v.trim());
        for (const v of values) {
          if (!/^\d{1,15}$/.test(v)) return this.fail('bad-content-length', value.slice(0, 200));
          const n = Number(v);
          if (contentLength !== null && contentLength !== n) return this.fail('request-smuggling', `conflicting Content-Length values: ${value}`);
          contentLength = n;
        }
      } else if (lower === 'transfer-encoding') {
        hasTransferEncoding = true;
        const codings = value.toLowerCase().split(',').map((v) => v.trim()).filter((v) => v !== '');
        chunked = codings[codings.length - 1] === 'chunked';
      }
    }
    if (hasTransferEncoding && contentLength !== null) {
      // RFC 9112 §6.1: Transfer-Encoding overrides; a sender of both is a smuggling suspect.
      this.events.violation('request-smuggling', 'both Transfer-Encoding and Content-Length');
    }
    const head: MessageHead = { method, target, status, httpVersion: version, rawHeaders, headBytes: end };
    if (this.kind === 'response' && status >= 100 && status < 200 && status !== 101) {
      this.events.informational?.(status);
      this.inMessage = false;
      this.state = State.Head;
      return;
    }
    this.inMessage = true;
    this.events.head(head);
    if (this.kind === 'response') {
      const reqMethod = this.requestMethods.shift() ?? '';
      if (status === 101 || (reqMethod === 'CONNECT' && status >= 200 && status < 300)) {
        // The connection leaves HTTP: nothing after this is parsed.
        this.finish(true);
        this.state = State.Lost;
        return;
      }
      if (reqMethod === 'HEAD' || status === 204 || status === 304) return this.finish(true);
    }
    if (hasTransferEncoding) {
      if (chunked) {
        this.state = State.ChunkSize;
        this.line = '';
        return;
      }
      if (this.kind === 'request') return this.fail('bad-transfer-encoding', 'a request whose last transfer coding is not chunked');
      this.state = State.UntilClose;
      return;
    }
    if (contentLength !== null) {
      if (contentLength === 0) return this.finish(true);
      this.remaining = contentLength;
      this.state = State.Length;
      return;
    }
    if (this.kind === 'request') return this.finish(true);
    this.state = State.UntilClose;
  }

  /** Line-oriented states of the chunked coding: size lines, the CRLF after data, trailers. */
  private readLine(chunk: Buffer, pos: number): number {
    const nl = chunk.indexOf(0x0a, pos);
    const stop = nl < 0 ? chunk.length : nl;
    if (this.line.length + (stop - pos) > CHUNK_LINE_LIMIT) {
      this.fail('bad-chunk', 'a chunk-size or trailer line longer than 1024 bytes');
      return chunk.length;
    }
    this.line += chunk.toString('latin1', pos, stop);
    if (nl < 0) return chunk.length;
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
    this.line = '';
    switch (this.state) {
      case State.ChunkDataEnd:
        if (line !== '') this.fail('bad-chunk', 'chunk data not followed by CRLF');
        else this.state = State.ChunkSize;
        break;
      case State.ChunkSize: {
        const m = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
        if (!m) {
          this.fail('bad-chunk', `bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
          break;
        }
        const size = parseInt(m[1]!, 16);
        if (size === 0) this.state = State.Trailers;
        else {
          this.remaining = size;
          this.state = State.ChunkData;
        }
        break;
      }
      case State.Trailers:
        if (line === '') this.finish(true);
        break;
      default:
        break;
    }
    return nl + 1;
  }

  private finish(complete: boolean): void {
    this.inMessage = false;
    if (this.state !== State.Lost) this.state = State.Head;
    this.events.end(complete);
  }

  private fail(code: string, detail: string): void {
    this.events.violation(code, detail);
    if (this.inMessage) this.finish(false);
    this.state = State.Lost;
    this.headLen = 0;
  }
}

/** Index just past the empty line that ends a head (CRLFCRLF or LFLF), or -1. */
function findHeadEnd(buf: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    if (buf[i] !== 0x0a) continue;
    if (i + 1 < to && buf[i + 1] === 0x0a) return i + 2;
    if (i + 2 < to && buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}
