/**
 * What the daemon needs to build the servers that host a runtime's listeners (the HTTP/1.1 front end in
 * http1/server.ts): the front end's options from the configuration, and the `clientError` handler
 * (malformed HTTP, oversized heads, smuggling attempts that llhttp rejects before any request reaches the
 * pipeline). The parser is always strict (no lenient flags): the lenient one accepts exactly the
 * ambiguities (CL+TE, bare LF, bad chunk sizes) that request smuggling is built on.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.js';
import { normalizePeerIp } from './forwarded.js';
import type { Http1ServerOptions } from './http1/server.js';
import type { InspectorSet } from './inspection.js';
import { nextRequestId } from './request-id.js';

export function frontEndOptions(config: GatewayConfig): Http1ServerOptions {
  const { limits, timeouts } = config.gateway;
  return {
    // Request line + headers; llhttp answers HPE_HEADER_OVERFLOW → 431 through clientErrorHandler.
    maxHeaderSize: limits.maxHeaderBytes,
    // Slowloris guard: the whole head must arrive within this time. There is no cap on the whole
    // request: a 100 MB upload over a slow link is legitimate (timeouts.idleMs bounds a stalled body).
    headersTimeout: timeouts.clientHeadersMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    highWaterMark: limits.streamHighWaterMark,
    noDelay: true,
  };
}

export interface ClientErrorDeps {
  readonly logger: Logger;
  readonly inspectors: InspectorSet | null;
}

const REASON_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large',
};

/** llhttp / node error code → status. Everything unlisted is a 400. */
function statusFor(code: string): number {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/** Codes that mean an ambiguous message framing, i.e. a request-smuggling attempt. */
const SMUGGLING_CODES: ReadonlySet<string> = new Set([
  'HPE_UNEXPECTED_CONTENT_LENGTH',
  'HPE_INVALID_CONTENT_LENGTH',
  'HPE_INVALID_TRANSFER_ENCODING',
  'HPE_INVALID_CHUNK_SIZE',
  'HPE_CHUNK_EXTENSIONS_OVERFLOW',
  'HPE_CR_EXPECTED',
  'HPE_LF_EXPECTED',
]);

/**
 * The server's 'clientError' listener. Answers 400 (431, 408) with `Connection: close` when nothing of a
 * response was written yet, logs the llhttp code as the reason, and reports a protocol violation to the
 * policy engine's alert stream. `deps` may be replaced by the daemon on reload (it reads them per call).
 * `inFlight` is the response in progress on the connection, null when there is none.
 */
export function clientErrorHandler(deps: ClientErrorDeps | (() => ClientErrorDeps)) {
  return function onClientError(err: Error & { code?: string }, socket: Duplex,
    inFlight: { readonly headersSent?: boolean } | null): void {
    const { logger, inspectors } = typeof deps === 'function' ? deps() : deps;
    const code = err.code ?? 'client-error';
    const peer = socket as Duplex & { remoteAddress?: string };
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      // The client went away; nothing to answer and nothing suspicious.
      socket.destroy();
      return;
    }
    const peerIp = normalizePeerIp(peer.remoteAddress);
    const status = statusFor(code);
    const id = nextRequestId();
    logger.warn({ id, peerIp, reason: code, status, detail: err.message }, 'malformed request');
    if (inspectors !== null && code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
      try {
        inspectors.protocolViolation({
          id, serverGroup: null, peerIp, clientIp: peerIp,
          reason: code,
          detail: SMUGGLING_CODES.has(code) ? `possible request smuggling: ${err.message}` : err.message,
        });
      } catch (engineErr) {
        logger.error({ id, err: engineErr }, 'policy engine error');
      }
    }
    if (socket.writable && (inFlight === null || inFlight.headersSent !== true)) {
      const body = `${REASON_TEXT[status]}\n`;
      socket.end(`HTTP/1.1 ${status} ${REASON_TEXT[status]}\r\nContent-Type: text/plain; charset=utf-8\r\n`
        + `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
      // A client that never reads must not keep the socket alive.
      setTimeout(() => socket.destroy(), 2000).unref();
    } else {
      socket.destroy();
    }
  };
}
