/**
 * The daemon's listening sockets, keyed by `ListenerSpec.key` and kept across reloads.
 *
 * Each server delegates every request to a mutable slot holding the *current* spec, so a reload swaps
 * handlers (and TLS contexts) without closing a socket: an idle keep-alive connection survives and its
 * next request runs through the new configuration. Only a change of the listener's shape (plain ↔ TLS,
 * client-certificate settings, options fixed at server construction) closes and reopens it.
 *
 * `apply()` is transactional: new listeners are opened first; if any fails, everything opened by this
 * call is closed again and the registry is exactly as before (Caddy's changeConfig does the same).
 *
 * The servers are net.Server / tls.Server with the gateway's HTTP/1.1 front end
 * (src/pipeline/http1/server.ts), not node:http: docs/RATIONALE.md "Server front end".
 */
import type { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer, TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { createHttp1Server, type Http1Front, type Http1Handlers, type Http1ServerOptions } from '../pipeline/http1/server.js';
import type { GatewayResponse } from '../pipeline/http1/types.js';
import { DaemonError, type DaemonErrorCode } from './errors.js';
import type { ListenerSpec } from './runtime.js';

/** `inFlight`: the response in progress on the connection, if any (nothing may be written once it started). */
export type ClientErrorHandler = (err: Error, socket: Duplex, inFlight: { readonly headersSent?: boolean } | null) => void;

/** Binds `server` on an IP_TRANSPARENT socket for `spec` (bridge mode). */
export type TransparentListenerOpener = (server: NetServer, spec: ListenerSpec) => Promise<void>;

/** The default hook: transparent sockets arrive with bridge mode (src/platform/transparent-socket.ts). */
export const openTransparentListener: TransparentListenerOpener = async (_server, spec) => {
  throw new DaemonError(
    'ERR_MODE_NOT_AVAILABLE',
    `listener ${spec.key} needs a transparent (IP_TRANSPARENT) socket, which this build does not provide yet` +
      (spec.source ? ` (asked for by ${spec.source})` : ''),
  );
};

export interface ApplyOptions {
  /** The front end's options (limits, timeouts) from the pipeline's frontEndOptions(config). */
  readonly serverOptions: Http1ServerOptions;
  /** Attached to every server's 'clientError' (malformed requests, oversized heads). null = Node's default 400. */
  readonly clientErrorHandler: ClientErrorHandler | null;
  /** Which configuration entry asked for a listener, when the spec does not say. */
  describe(spec: ListenerSpec): string;
  /** How long removed or reshaped listeners' in-flight requests may take (timeouts.shutdownGraceMs). */
  readonly drainGraceMs: number;
}

export interface ListenerRegistryDeps {
  readonly logger: Logger;
  readonly openTransparentListener?: TransparentListenerOpener;
}

export interface ListenerInfo {
  readonly key: string;
  readonly address: string;
  /** The bound port (differs from the configured one only for port 0). */
  readonly port: number;
  readonly tls: boolean;
  readonly transparent: boolean;
  readonly requestsServed: number;
}

/** Options that change on a live server; a change of any other reopens its listeners. */
const LIVE_OPTIONS = ['keepAliveTimeout', 'headersTimeout'] as const;

interface Slot {
  spec: ListenerSpec;
  readonly server: NetServer | TlsServer;
  readonly front: Http1Front;
  readonly shape: string;
  requestsServed: number;
  /** Set once the server stopped accepting; resolves on its 'close' event (every connection ended). */
  closing: Promise<void> | null;
}

function shapeOf(spec: ListenerSpec, serverOptions: Http1ServerOptions): string {
  const fixed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(serverOptions)) {
    if (!(LIVE_OPTIONS as readonly string[]).includes(k) && typeof v !== 'function') fixed[k] = v;
  }
  return JSON.stringify({
    tls: spec.tls !== null,
    requestCert: spec.tls?.requestCert ?? false,
    rejectUnauthorized: spec.tls?.rejectUnauthorized ?? false,
    transparent: spec.transparent,
    fixed,
  });
}

const LISTEN_ERRORS: Record<string, { code: DaemonErrorCode; reason: string }> = {
  EADDRINUSE: { code: 'ERR_LISTEN_ADDRESS_IN_USE', reason: 'the address is already in use by another socket' },
  EADDRNOTAVAIL: {
    code: 'ERR_LISTEN_ADDRESS_NOT_AVAILABLE',
    reason: 'the address is not configured on this host (add it with iptables/alias.sh up)',
  },
  EACCES: {
    code: 'ERR_LISTEN_PERMISSION_DENIED',
    reason: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  },
};

function listenError(err: unknown, spec: ListenerSpec, source: string): DaemonError {
  if (err instanceof DaemonError) return err;
  const sysCode = (err as NodeJS.ErrnoException)?.code ?? '';
  const known = LISTEN_ERRORS[sysCode];
  const where = spec.address.includes(':') ? `[${spec.address}]:${spec.port}` : `${spec.address}:${spec.port}`;
  const reason = known?.reason ?? (err instanceof Error ? err.message : String(err));
  return new DaemonError(
    known?.code ?? 'ERR_LISTEN_FAILED',
    `cannot listen on ${where}: ${reason} (${sysCode || 'error'}; asked for by ${source})`,
    [],
    { cause: err },
  );
}

export class ListenerRegistry {
  readonly #logger: Logger;
  readonly #openTransparent: TransparentListenerOpener;
  readonly #slots = new Map<string, Slot>();
  /** Servers that stopped accepting and are finishing their in-flight requests. */
  readonly #draining = new Set<Promise<void>>();
  #served = 0;
  #clientError: ClientErrorHandler | null = null;

  constructor(deps: ListenerRegistryDeps) {
    this.#logger = deps.logger;
    this.#openTransparent = deps.openTransparentListener ?? openTransparentListener;
  }

  /** Requests dispatched by every listener since start (including removed listeners). */
  requestsServed(): number {
    return this.#served;
  }

  list(): ListenerInfo[] {
    const out: ListenerInfo[] = [];
    for (const slot of this.#slots.values()) {
      const addr = slot.server.address();
      out.push({
        key: slot.spec.key,
        address: slot.spec.address,
        port: addr !== null && typeof addr === 'object' ? addr.port : slot.spec.port,
        tls: slot.spec.tls !== null,
        transparent: slot.spec.transparent,
        requestsServed: slot.requestsServed,
      });
    }
    return out;
  }

  /**
   * Makes the set of listeners equal to `specs`. On failure nothing changed (every listener opened by
   * this call is closed again, every reshaped one restored) and the error names the address:port and
   * the configuration entry that asked for it.
   */
  async apply(specs: readonly ListenerSpec[], options: ApplyOptions): Promise<void> {
    const next = new Map<string, ListenerSpec>();
    for (const spec of specs) {
      if (next.has(spec.key)) {
        throw new DaemonError('ERR_LISTEN_FAILED', `two listeners share the key ${spec.key} (${options.describe(spec)})`);
      }
      next.set(spec.key, spec);
    }
    const added: ListenerSpec[] = [];
    const reshaped: ListenerSpec[] = [];
    const kept: ListenerSpec[] = [];
    for (const spec of next.values()) {
      const slot = this.#slots.get(spec.key);
      if (slot === undefined) added.push(spec);
      else if (slot.shape !== shapeOf(spec, options.serverOptions)) reshaped.push(spec);
      else kept.push(spec);
    }
    const removed = [...this.#slots.keys()].filter((k) => !next.has(k));

    // Phase 1: open every new listener. Nothing existing is touched yet.
    const opened: Slot[] = [];
    try {
      for (const spec of added) opened.push(await this.#open(spec, options));
    } catch (err) {
      await Promise.all(opened.map((s) => this.#closeNow(s)));
      throw err;
    }

    // Phase 2: reshaped listeners must give up their address before the new shape can bind it.
    const replaced: { old: Slot; fresh: Slot }[] = [];
    for (const spec of reshaped) {
      const old = this.#slots.get(spec.key)!;
      void this.#stopAccepting(old);
      await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        replaced.push({ old, fresh: await this.#open(spec, options) });
      } catch (err) {
        // Roll back: close what this call opened, and put the old servers back on their addresses.
        await Promise.all([...opened, ...replaced.map((r) => r.fresh)].map((s) => this.#closeNow(s)));
        for (const slot of [...replaced.map((r) => r.old), old]) {
          try {
            slot.closing = null;
            await listenOn(slot.server, slot.spec, this.#openTransparent);
          } catch (reErr) {
            this.#logger.error({ err: reErr, listener: slot.spec.key }, 'rollback could not reopen a listener');
            this.#slots.delete(slot.spec.key);
          }
        }
        throw err;
      }
    }

    // Phase 3 (cannot fail): commit.
    this.#clientError = options.clientErrorHandler;
    for (const spec of kept) {
      const slot = this.#slots.get(spec.key)!;
      slot.spec = spec;
      slot.front.setOptions(options.serverOptions);
      if (spec.tls?.defaultContextOptions) (slot.server as TlsServer).setSecureContext(spec.tls.defaultContextOptions);
      else if (spec.tls) setDefaultContext(slot.server as TlsServer, spec);
    }
    for (const slot of opened) this.#slots.set(slot.spec.key, slot);
    for (const { old, fresh } of replaced) {
      this.#slots.set(fresh.spec.key, fresh);
      this.#drain(old, options.drainGraceMs);
      this.#logger.info({ listener: fresh.spec.key }, 'listener reopened with a new shape');
    }
    for (const key of removed) {
      const slot = this.#slots.get(key)!;
      this.#slots.delete(key);
      this.#drain(slot, options.drainGraceMs);
      this.#logger.info({ listener: key }, 'listener removed; in-flight requests finish');
    }
    for (const slot of opened) this.#logger.info({ listener: slot.spec.key, tls: slot.spec.tls !== null }, 'listening');
  }

  /** Stops accepting everywhere, lets in-flight requests finish for up to `graceMs`, then closes. */
  async close(graceMs: number): Promise<void> {
    const slots = [...this.#slots.values()];
    this.#slots.clear();
    for (const slot of slots) this.#drain(slot, graceMs);
    await Promise.all([...this.#draining]);
  }

  async #open(spec: ListenerSpec, options: ApplyOptions): Promise<Slot> {
    const source = spec.source ?? options.describe(spec);
    const slot: Slot = { spec, server: undefined as never, front: undefined as never, shape: shapeOf(spec, options.serverOptions),
      requestsServed: 0, closing: null };
    const handlers: Http1Handlers = {
      onRequest: (req, res) => {
        slot.requestsServed++;
        this.#served++;
        try {
          slot.spec.onRequest(req, res);
        } catch (err) {
          this.#handlerBug(slot, err, res);
        }
      },
      onUpgrade: (req, socket, head) => {
        slot.requestsServed++;
        this.#served++;
        try {
          slot.spec.onUpgrade(req, socket, head);
        } catch (err) {
          this.#logger.error({ err, listener: slot.spec.key }, 'upgrade handler threw (a bug); connection closed');
          socket.destroy();
        }
      },
      onClientError: (err, socket, inFlight) => {
        const handler = this.#clientError ?? options.clientErrorHandler;
        if (handler) handler(err, socket, inFlight);
        else answerBadRequest(err, socket, inFlight);
      },
      onBug: (err, where) => {
        this.#logger.error({ err, listener: slot.spec.key, where }, 'HTTP front end callback threw (a bug); connection closed');
      },
    };
    let tlsOptions: TlsOptions | null = null;
    if (spec.tls !== null) {
      const tls = spec.tls;
      tlsOptions = {
        ...(tls.defaultContextOptions ?? {}),
        requestCert: tls.requestCert,
        rejectUnauthorized: tls.rejectUnauthorized,
        // Resolved per handshake against the slot, so a reload changes certificates without a reopen.
        // A plain function: node calls it with the TLSSocket as `this`, whose local address bridge mode needs.
        SNICallback: function (this: { localAddress?: string }, serverName, cb) {
          try {
            const pick = slot.spec.tls!.contextForConnection;
            cb(null, pick ? pick(serverName, this.localAddress ?? '') : slot.spec.tls!.contextFor(serverName.toLowerCase()));
          } catch (err) {
            cb(err as Error, undefined);
          }
        },
      };
    }
    const { server, front } = createHttp1Server(options.serverOptions, handlers, tlsOptions);
    (slot as { server: typeof server }).server = server;
    (slot as { front: Http1Front }).front = front;
    if (spec.tls !== null) {
      if (!spec.tls.defaultContextOptions) setDefaultContext(server as TlsServer, spec);
      // Bridge mode, no SNI: the certificate depends on the connection's local address. tls.Server creates
      // the TLSSocket in its own 'connection' listener from the server's shared context, synchronously, so
      // a listener placed before it chooses the context for exactly this connection.
      server.prependListener('connection', (socket: { localAddress?: string }) => {
        const pick = slot.spec.tls?.contextForConnection;
        if (pick) (server as unknown as { _sharedCreds: unknown })._sharedCreds = pick(null, socket.localAddress ?? '');
      });
      server.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) => {
        this.#logger.debug({ listener: slot.spec.key, peerIp: socket.remoteAddress, code: err.code, reason: err.message }, 'TLS handshake failed');
      });
    }
    try {
      await listenOn(server, spec, this.#openTransparent);
    } catch (err) {
      throw listenError(err, spec, source);
    }
    server.on('error', (err) => this.#logger.error({ err, listener: slot.spec.key }, 'listener error'));
    return slot;
  }

  #handlerBug(slot: Slot, err: unknown, res: GatewayResponse): void {
    this.#logger.error({ err, listener: slot.spec.key }, 'request handler threw (a bug); answered 500');
    if (!res.headersSent) {
      res.writeHead(500, ['connection', 'close', 'content-length', '0']);
      res.end();
    } else {
      res.destroy();
    }
  }

  /** Stops accepting (idempotent); the promise resolves when the last connection has ended. */
  #stopAccepting(slot: Slot): Promise<void> {
    if (slot.closing === null) {
      const server = slot.server;
      // Registered before close(): with no open connection, 'close' is emitted on the next tick.
      slot.closing = new Promise<void>((resolve) => server.once('close', () => resolve()));
      server.close();
      // Idle keep-alive sockets go now; busy ones after their current response.
      slot.front.drain();
    }
    return slot.closing;
  }

  #drain(slot: Slot, graceMs: number): void {
    const closed = this.#stopAccepting(slot);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        slot.front.closeAllConnections();
        // Upgraded tunnels are not HTTP connections any more; the mode runtime ends them on its close().
        setTimeout(resolve, 1000).unref();
      }, graceMs);
    });
    const done = Promise.race([closed, deadline]).then(() => {
      clearTimeout(timer);
      this.#draining.delete(done);
    });
    this.#draining.add(done);
  }

  /** For a listener that never accepted anything (a failed apply). */
  async #closeNow(slot: Slot): Promise<void> {
    const closed = this.#stopAccepting(slot);
    slot.front.closeAllConnections();
    await closed;
  }
}

/** What node:http does when no 'clientError' listener exists (used until the pipeline provides one). */
function answerBadRequest(err: Error & { code?: string }, socket: Duplex, inFlight: { readonly headersSent?: boolean } | null): void {
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`, () => socket.destroy());
}

/**
 * Installs the spec's prebuilt default context. Node 20 has no public API for this (setSecureContext
 * takes options, not a SecureContext), so when the runtime does not provide `defaultContextOptions` the
 * server's shared credentials are replaced directly: without it, clients that send no SNI would fail.
 */
function setDefaultContext(server: TlsServer, spec: ListenerSpec): void {
  (server as unknown as { _sharedCreds: unknown })._sharedCreds = spec.tls!.defaultContext;
}

function listenOn(server: NetServer, spec: ListenerSpec, openTransparent: TransparentListenerOpener): Promise<void> {
  if (spec.transparent) return openTransparent(server, spec);
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: spec.address, port: spec.port });
  });
}
