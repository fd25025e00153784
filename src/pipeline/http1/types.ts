/**
 * What the request pipeline uses of an HTTP/1 request and its response: exactly the parts of node:http's
 * IncomingMessage / ServerResponse it touches, so that the gateway's own front end (server.ts) and
 * node:http both satisfy them. Node's classes are a superset; tests may still hand them in.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface GatewayRequest {
  /** Optional only because node:http declares it so; the front end always sets it. */
  readonly method?: string | undefined;
  /** The request target exactly as received (latin1, one char per byte). */
  readonly url?: string | undefined;
  /** "1.1" or "1.0". */
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** [name, value, name, value, …] as received. */
  readonly rawHeaders: string[];
  /**
   * Lower-case names, joined like node:http with joinDuplicateHeaders off: duplicates of single-value
   * fields dropped (first wins), Cookie joined with '; ', Set-Cookie an array, the rest joined with ', '.
   */
  readonly headers: IncomingHttpHeaders;
  /**
   * One field as `headers[lowerName]` gives it, without building `headers` (the front end's requests
   * have it; node:http's do not). Use headerOf() from request-head.ts.
   */
  header?(lowerName: string): string | undefined;
  /** The client connection (a TLSSocket on TLS listeners). */
  readonly socket: Socket;

  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  removeListener(event: 'data', listener: (chunk: Buffer) => void): this;
  removeListener(event: 'end', listener: () => void): this;
  removeListener(event: 'error', listener: (err: Error) => void): this;
  /** Stops 'data' events and reading from the client (back-pressure). */
  pause(): this;
  resume(): this;
  isPaused(): boolean;
  /** Calls `callback` after `ms` without bytes from the client; 0 cancels. */
  setTimeout(ms: number, callback?: () => void): this;
}

/** Flat [name, value, …] list, or an object (values converted with String()). */
export type ResponseHeaders = string[] | Record<string, string | number>;

export interface GatewayResponse {
  statusCode: number;
  /** True once writeHead ran (the head may still wait for the first body bytes, as in node:http). */
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  /** True once end() ran and every byte was handed to the kernel. */
  readonly writableFinished: boolean;

  /** Throws (and changes nothing) on an invalid status, status text, header name or value. */
  writeHead(status: number, statusText: string, headers?: ResponseHeaders): this;
  writeHead(status: number, headers?: ResponseHeaders): this;
  /** False = the connection's buffer is full: wait for 'drain'. */
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): this;
  cork(): void;
  uncork(): void;
  /** Ends the client connection at once (a truncated response must not look complete). */
  destroy(err?: Error): this;

  /** 'close' fires exactly once: after the response finished, or when the connection died first. */
  on(event: 'close', listener: () => void): this;
  once(event: 'close' | 'drain', listener: () => void): this;
  removeListener(event: 'close' | 'drain', listener: () => void): this;
}

/** A request handler (ListenerSpec.onRequest). */
export type RequestHandler = (req: GatewayRequest, res: GatewayResponse) => void;

/** An upgrade handler: the client socket, detached from HTTP, and the bytes that followed the head. */
export type UpgradeHandler = (req: GatewayRequest, socket: Duplex, head: Buffer) => void;
