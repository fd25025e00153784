/**
 * The seam between the daemon (listeners, reload, workers) and a mode's data path (alias now, bridge
 * later). A mode builds a `ModeRuntime` from one frozen configuration. The daemon owns the listening
 * sockets and keeps them across reloads: on reload it builds a new runtime, points each surviving
 * listener at the new runtime's handlers, opens listeners that are new, closes those that are gone,
 * and finally calls `close()` on the old runtime, which resolves once its in-flight requests finish.
 */
import type { Duplex } from 'node:stream';
import type { SecureContext, SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.js';
import type { GatewayRequest, GatewayResponse } from '../pipeline/http1/types.js';
import type { InspectorSet } from '../pipeline/inspection.js';
import type { HealthLog } from '../pools/health-log.js';

export interface TlsListenerOptions {
  /** Context used when the client sends no SNI or an unknown name. */
  readonly defaultContext: SecureContext;
  /**
   * The options `defaultContext` was built from. Node 20 offers no public way to install a prebuilt
   * SecureContext as a server's default (used when the client sends no SNI): `server.setSecureContext()`
   * takes options. When present, the daemon passes these to it on listen and on every reload.
   */
  readonly defaultContextOptions?: SecureContextOptions;
  /** Context for a server name (lower-case); returns the default when nothing matches. */
  contextFor(serverName: string): SecureContext;
  /**
   * Bridge mode: the context for one connection, knowing its local address (the original destination).
   * `serverName` is null when the client sent no SNI. When present, the listener uses it for every
   * handshake instead of `contextFor` and the default context.
   */
  readonly contextForConnection?: (serverName: string | null, localAddress: string) => SecureContext;
  /** Mutual TLS: request a client certificate and verify it against `ca`. */
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
}

export interface ListenerSpec {
  /** Unique per runtime and stable across reloads for the same socket: `${address}:${port}`. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** null = plain HTTP. */
  readonly tls: TlsListenerOptions | null;
  /** Bridge mode: an IP_TRANSPARENT listener whose accepted sockets carry the original destination. */
  readonly transparent: boolean;
  /**
   * Which configuration entry asked for this listener, for error messages, e.g.
   * "config/portcullis.yaml:30:15 sites[0].serverGroups[0].services[0].reverseProxy[0]". Optional: the
   * daemon derives it from the configuration when the runtime leaves it out.
   */
  readonly source?: string;
  onRequest(req: GatewayRequest, res: GatewayResponse): void;
  onUpgrade(req: GatewayRequest, socket: Duplex, head: Buffer): void;
}

export interface ModeRuntime {
  readonly listeners: readonly ListenerSpec[];
  /** Number of requests (and upgraded tunnels) in flight. */
  inFlight(): number;
  /** Mode-specific counters for `portcullis status` (sniff: packets, pcap drops, flows, gaps …). */
  stats?(): Readonly<Record<string, number>>;
  /** Resolves when in-flight work is finished (or `graceMs` passed), then releases upstream pools. */
  close(graceMs: number): Promise<void>;
  /**
   * Optional: opens a data path that is not a listener (sniff mode's capture). Called once by the
   * daemon right after the runtime is built, before it serves; a rejection fails the start or the
   * reload (the runtime has then released what it opened). `close()` stops it.
   */
  start?(): Promise<void>;
}

export interface RuntimeDeps {
  readonly logger: Logger;
  /** Policy engine per server group; null = no inspection at all. */
  readonly inspectors: InspectorSet | null;
  /**
   * The process's cyclic health log (docs/POOLS.md), shared by every configuration so that it survives
   * reloads. Absent (tests): each runtime keeps its own.
   */
  readonly healthLog?: HealthLog;
}

export type ModeRuntimeFactory = (config: GatewayConfig, deps: RuntimeDeps) => ModeRuntime;
