/**
 * One keep-alive connection pool (Http1Pool) per upstream origin, created when the runtime is built (never
 * per request). Two rules pointing at the same server with the same TLS settings share a pool. Each pool
 * has a bounded number of connections, so a burst of clients queues at the gateway instead of opening
 * unbounded sockets toward the server. Connections are opened by undici's connector (TCP, TLS, SNI,
 * certificate checks, connect timeout); undici's Pool is no longer in the data path (docs/RATIONALE.md).
 */
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { buildConnector } from 'undici';
import type { Timeouts } from '../config/types.js';
import { Http1Pool, type Http1Handler, type Http1RequestOptions } from './http1/upstream-client.js';

/** Upper bound of keep-alive connections per origin (queueing beyond). */
export const MAX_CONNECTIONS_PER_ORIGIN = 256;

export interface UpstreamTarget {
  /** IP literal or hostname (resolved by undici / node per connection). */
  readonly host: string;
  readonly port: number;
  readonly encrypt: boolean;
  readonly validateServerCertificate: boolean;
  /** PEM CA bundle for validating the server, null = node's default roots. */
  readonly ca: string | null;
  /** TLS SNI (and the name verified in the certificate); null = the host when it is a name. */
  readonly serverName: string | null;
}

/** What the pipeline needs from an upstream pool (Http1Pool; the interface keeps tests free to stand in). */
export interface UpstreamDispatcher {
  dispatch(opts: Http1RequestOptions, handler: Http1Handler): boolean;
  /** Graceful: in-flight and waiting requests finish, then the sockets close. */
  close(): Promise<void>;
  /** Forceful: everything still running fails now. */
  destroy(): Promise<void>;
  readonly stats: { readonly running: number; readonly pending: number; readonly queued: number };
  /** close() or destroy() was called. */
  readonly closed: boolean;
}

export interface Upstream {
  readonly key: string;
  /** "ip:port" / "host:port", for the access log. */
  readonly label: string;
  readonly pool: UpstreamDispatcher;
  readonly target: UpstreamTarget;
  /**
   * Passed as `servername` with every dispatch (undici's Pool derived a request's TLS name from its Host
   * header, the *client's* Host). The connectors below ignore it and always use the configured name.
   */
  readonly dispatchServerName: string | undefined;
  /** Options for a raw net/tls connection to the same origin (WebSocket and other upgrades). */
  readonly socketOptions: ConnectionOptions & { host: string; port: number };
  /**
   * Opens that raw connection itself instead (bridge mode: from the client's address). The socket
   * emits 'connect' (plain) or 'secureConnect' (encrypt), or 'error', like net/tls.connect().
   */
  readonly openSocket?: () => Socket;
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function keyOf(t: UpstreamTarget): string {
  return [t.encrypt ? 'https' : 'http', t.host, t.port, t.validateServerCertificate ? 'v' : 'nv',
    t.serverName ?? '', t.ca ?? ''].join('|');
}

export class UpstreamPools {
  private readonly byKey = new Map<string, Upstream>();

  constructor(private readonly timeouts: Timeouts) {}

  /** The upstream for a target; created on first use (call it while building the runtime). */
  get(target: UpstreamTarget): Upstream {
    const key = keyOf(target);
    const existing = this.byKey.get(key);
    if (existing !== undefined) return existing;

    const servername = target.serverName ?? (isIP(target.host) === 0 ? target.host : undefined);
    const tlsOptions: ConnectionOptions = target.encrypt ? {
      rejectUnauthorized: target.validateServerCertificate,
      ...(target.ca !== null ? { ca: target.ca } : {}),
      ...(servername !== undefined ? { servername } : {}),
    } : {};
    // The connector ignores the per-request name and always uses the configured one (none for an IP
    // target without serverName: node then verifies the certificate against the IP address).
    const baseConnector = buildConnector({ timeout: this.timeouts.connectMs, ...tlsOptions });
    const connect: buildConnector.connector = (options, callback) => {
      baseConnector({ ...options, servername: servername as string }, callback);
    };
    const pool = new Http1Pool(`${target.encrypt ? 'https' : 'http'}://${hostForUrl(target.host)}:${target.port}`, {
      connections: MAX_CONNECTIONS_PER_ORIGIN,
      // Shorter than the usual server-side keep-alive (node: 5 s) so we rarely reuse a socket the server
      // is closing at the same moment.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: this.timeouts.upstreamHeadersMs,
      bodyTimeout: this.timeouts.idleMs,
      connect,
    });
    const upstream: Upstream = {
      key,
      label: `${hostForUrl(target.host)}:${target.port}`,
      pool,
      target,
      dispatchServerName: target.encrypt ? target.serverName ?? target.host : undefined,
      socketOptions: { host: target.host, port: target.port, ...tlsOptions },
    };
    this.byKey.set(key, upstream);
    return upstream;
  }

  /** Graceful: lets queued requests finish, then closes keep-alive sockets. */
  async close(): Promise<void> {
    await Promise.all([...this.byKey.values()].map((u) => u.pool.close()));
  }

  /** Forceful: aborts everything still running. */
  async destroy(): Promise<void> {
    await Promise.all([...this.byKey.values()].map((u) => u.pool.destroy()));
  }
}
