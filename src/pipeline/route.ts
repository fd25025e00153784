/**
 * How a request finds its upstream. The pipeline is mode-independent: alias mode resolves a route from its
 * outbound rules (host + URL prefix), bridge mode from the original destination of the connection. Both
 * hand the pipeline a `RouteLookup`.
 */
import type { IncomingMessage } from 'node:http';
import type { ForwardingPolicy } from './forwarded.js';
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
}

/** host: lower-case, without port ('' when absent); path: the request target up to '?'. */
export type RouteLookup = (host: string, path: string, req: IncomingMessage) => Route | null;
