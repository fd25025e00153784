/**
 * How a request finds its upstream. The pipeline is mode-independent: alias mode resolves a route from its
 * outbound rules (host + URL prefix), bridge mode from the original destination of the connection. Both
 * hand the pipeline a `RouteLookup`.
 */
import type { ForwardingPolicy } from './forwarded.js';
import type { GatewayRequest } from './http1/types.js';
import type { Upstream } from './upstream-pools.js';

export interface Route {
  readonly serverGroup: string;
  readonly service: string;
  /** The outbound rule's priority (alias mode), for the access log; null when the mode has no rules. */
  readonly rule: number | null;
  readonly upstream: Upstream;
  readonly forwarding: ForwardingPolicy;
  /** Host header toward the upstream; null = keep the client's. */
  readonly hostHeader: string | null;
  /**
   * The service demands a verified client certificate. The listener may serve several services and so
   * cannot always reject at the handshake; the pipeline checks `socket.authorized` per request.
   */
  readonly requireClientCertificate: boolean;
  /**
   * A pool of servers (docs/POOLS.md): the pipeline asks it for the upstream of each request instead of
   * using `upstream`, which then only names the pool's first server. Absent = always `upstream`.
   */
  readonly pool?: RoutePool;
}

/** The server a pool chose for one request. */
export interface PoolPick {
  readonly upstream: Upstream;
  /** Set-Cookie value pinning the client to this server (sticky pools), or null. */
  readonly setCookie: string | null;
  /** The server answered with this status (passive health counts 5xx). */
  responded(status: number): void;
  /** The request is over (least-connections counts requests in flight). Idempotent. */
  release(): void;
}

export interface RoutePool {
  /** A usable server for this request, or null when every server is down (→ 503 no-healthy-server). */
  pick(clientIp: string, req: GatewayRequest): PoolPick | null;
  /**
   * `failed` could not be reached and nothing was sent to it: counts the failure, releases `failed`
   * and picks a server this request has not tried yet; null when none is left.
   */
  retry(failed: PoolPick, reason: string, clientIp: string, req: GatewayRequest): PoolPick | null;
}

/** host: lower-case, without port ('' when absent); path: the request target up to '?'. */
export type RouteLookup = (host: string, path: string, req: GatewayRequest) => Route | null;
