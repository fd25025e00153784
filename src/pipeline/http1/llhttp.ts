/**
 * Node's own llhttp binding, as node:http uses it (`_http_common` is a public, if undocumented, module),
 * shared by the front end (requests) and Http1Pool (responses).
 * With `consume(handle)` llhttp reads straight from the socket's libuv stream: no JS 'data' event, no
 * Buffer per read, and the callbacks below run inside the read.
 */
import { createRequire } from 'node:module';

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  /** A parse error comes back as an Error carrying `code` (HPE_…) and `reason`; else bytes parsed. */
  execute(data: Buffer): number | LlhttpError;
  finish(): undefined | LlhttpError;
  consume(handle: object): void;
  unconsume(): void;
  getCurrentBuffer(): Buffer;
  /** Milliseconds since the current message began (valid once one began). */
  duration(): number;
  /** False from the first byte of a message until its head is complete. */
  headersCompleted(): boolean;
  close(): void;
  [slot: number]: unknown;
}

export interface LlhttpError extends Error {
  code: string;
  reason?: string;
  bytesParsed?: number;
}

interface ParserConstructor {
  new (): LlhttpParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
  readonly kOnTimeout: number;
  readonly kLenientNone: number;
}

const common = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: ParserConstructor;
  methods: readonly string[];
};

export const HTTPParser = common.HTTPParser;
/** llhttp method number → name. */
export const METHODS = common.methods;

/** A socket's native stream handle (TCPWrap, TLSWrap …) as net.Socket keeps it in `_handle`. */
export interface StreamHandle {
  readonly isStreamBase?: boolean;
  /** Kept in step with net.Socket's own flag when reading is started or stopped by hand. */
  reading?: boolean;
  /** Set while an llhttp parser consumes the handle (node:http's convention). */
  _consumed?: boolean;
  readStart(): number;
  readStop(): number;
}

/** The socket's native handle when llhttp can consume it (a StreamBase), else null (also once closed). */
export function streamHandleOf(socket: object): StreamHandle | null {
  const handle = (socket as { _handle?: StreamHandle | null })._handle;
  return handle !== null && handle !== undefined && handle.isStreamBase === true ? handle : null;
}
