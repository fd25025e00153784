/**
 * Bridge mode's data path. The gateway sits on a Linux bridge; nftables hands it only new connections
 * to protected server address:ports (src/platform/nft-ruleset.ts), which arrive on IP_TRANSPARENT
 * listeners bound to the ORIGINAL ports: one per port on 0.0.0.0 (and [::] when a server group has
 * IPv6 servers). The accepted socket's local address:port is the original destination; it selects the
 * server group and service (a Map compiled here) and is also where the request goes next.
 *
 * Requests then run through the same RequestPipeline (and policy engine) as alias mode. Upstream:
 *   - `transparency: client-ip` (default): from the client's own address (IP_TRANSPARENT upstream
 *     sockets), so the server sees the client as if the gateway were a cable. One pool per client
 *     address, bounded and evicted when idle (client-sourced-upstreams.ts). No X-Forwarded-For unless
 *     the service sets `forwardedClientIp` (the loader defaults it off in this case).
 *   - `gateway-ip`: an ordinary connection from the gateway's address, with X-Forwarded-For.
 * `encrypt` per service: TLS toward the server, verified with `validateServerCertificate` / `ca`
 * against the name the client asked for (its SNI, when one of our certificates carries that name) or
 * else the server's IP address.
 */
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Service } from '../../config/types.js';
import type { ListenerSpec, ModeRuntime, ModeRuntimeFactory } from '../../daemon/runtime.js';
import type { GatewayRequest, GatewayResponse } from '../../pipeline/http1/types.js';
import { proxyRuntimeLifecycle } from '../runtime-lifecycle.js';
import { ForwardingPolicy } from '../../pipeline/forwarded.js';
import { RequestPipeline } from '../../pipeline/request-pipeline.js';
import type { Route, RouteLookup } from '../../pipeline/route.js';
import { UpstreamPools, type Upstream, type UpstreamTarget } from '../../pipeline/upstream-pools.js';
import { endpointPool } from '../../pools/bridge-pools.js';
import { PoolSet } from '../../pools/pool-set.js';
import { BridgeRuntimeError, canonicalAddress, compileEndpoints, endpointKey, type BridgeEndpoint } from './bridge-endpoints.js';
import { buildBridgeTls, type BridgeTlsPort } from './bridge-tls.js';
import { ClientSourcedUpstreams } from './client-sourced-upstreams.js';

/**
 * Design A TPROXYs protected connections to the daemon's own port, protected port + 15000 (the
 * renderer's default, src/platform/nft-ruleset.ts; the configuration has no key to change it). The
 * accepted socket still carries the original destination, so the lookup is the same as in Design B.
 */
export const DESIGN_A_PORT_OFFSET = 15000;

/** Distinct upstream TLS names remembered per endpoint (gateway-ip); beyond, the server's IP is used. */
const MAX_NAMES_PER_ENDPOINT = 64;

const UNMATCHED_BODY = Buffer.from('Bad Gateway: this destination is not protected by the gateway\n');

/** Everything fixed per protected endpoint at load time. */
interface EndpointPlan {
  readonly endpoint: BridgeEndpoint;
  readonly forwarding: ForwardingPolicy;
  readonly requireClientCertificate: boolean;
  /** TLS termination on this port (null for plain ports). */
  readonly tls: BridgeTlsPort | null;
  /** gateway-ip: one route per upstream TLS name ('' = none). */
  readonly byName: Map<string, Route>;
  /** Key prefix for client-sourced pools: "index|". */
  readonly keySuffix: string;
}

export const createBridgeRuntime: ModeRuntimeFactory = (config, deps): ModeRuntime => {
  const bridge = config.gateway.bridge;
  if (config.gateway.workers > 1) {
    throw new BridgeRuntimeError('BRIDGE_WORKERS',
      `bridge mode runs in one process: set gateway.workers to 1 (it is ${config.gateway.workers}); transparent listeners are not shared with cluster workers`);
  }
  const compiled = compileEndpoints(config);
  const clientIp = bridge.transparency === 'client-ip';
  const pipeline = new RequestPipeline(config, deps);
  const log = deps.logger.child({ component: 'bridge' });
  const gatewayPools = new UpstreamPools(config.gateway.timeouts);
  const clientPools = clientIp ? new ClientSourcedUpstreams<Route>({ timeouts: config.gateway.timeouts, mark: 0 }) : null;

  const forwarding = new Map<Service, ForwardingPolicy>();
  const forwardingFor = (service: Service): ForwardingPolicy => {
    let policy = forwarding.get(service);
    if (policy === undefined) {
      policy = new ForwardingPolicy(service.forwardedConnections, service.forwardedClientIp);
      forwarding.set(service, policy);
    }
    return policy;
  };

  const tlsByPort = new Map<number, BridgeTlsPort>();
  for (const [port, plan] of compiled.ports) if (plan.tls) tlsByPort.set(port, buildBridgeTls(port, plan.endpoints));

  const plans = new Map<string, EndpointPlan>();
  for (const endpoint of compiled.list) {
    const service = endpoint.service;
    plans.set(endpointKey(endpoint.address, endpoint.port), {
      endpoint,
      forwarding: forwardingFor(service),
      requireClientCertificate: endpoint.tls && service.clientAuth !== null && service.clientAuth.required,
      tls: endpoint.tls ? tlsByPort.get(endpoint.port)! : null,
      byName: new Map(),
      keySuffix: `|${endpoint.index}|`,
    });
  }

  const targetFor = (endpoint: BridgeEndpoint, serverName: string | null): UpstreamTarget => ({
    host: endpoint.address,
    port: endpoint.port,
    // The original destination speaks TLS only on the service's sslPorts: `encrypt` applies there.
    encrypt: endpoint.tls && endpoint.service.encrypt,
    validateServerCertificate: endpoint.service.validateServerCertificate,
    ca: endpoint.service.ca,
    serverName,
  });
  const routeFor = (plan: EndpointPlan, upstream: Upstream): Route => ({
    serverGroup: plan.endpoint.serverGroup.name,
    service: plan.endpoint.service.name,
    rule: null,
    upstream,
    forwarding: plan.forwarding,
    hostHeader: null,
    requireClientCertificate: plan.requireClientCertificate,
  });
  /**
   * The TLS name toward the server: the client's SNI when it names one of this port's certificates
   * (the client asked for that server by name), else none (verified against the address).
   */
  const upstreamName = (plan: EndpointPlan, socket: GatewayRequest['socket']): string => {
    if (plan.tls === null || !plan.endpoint.service.encrypt) return '';
    const sni = (socket as TLSSocket).servername;
    if (typeof sni !== 'string' || sni.length === 0) return '';
    const name = sni.toLowerCase();
    return plan.tls.matchesCertificateName(name) ? name : '';
  };

  const planOf = (socket: GatewayRequest['socket']): EndpointPlan | undefined => {
    const local = socket.localAddress;
    if (local === undefined) return undefined;
    return plans.get(endpointKey(local, socket.localPort ?? 0)) ?? plans.get(endpointKey(canonicalAddress(local), socket.localPort ?? 0));
  };

  // Services with a pool (docs/POOLS.md): one pooled route per endpoint, the destination its first primary.
  const serverPools = new PoolSet(deps.logger, deps.healthLog);
  const poolUpstreams = clientIp ? new ClientSourcedUpstreams<Upstream>({ timeouts: config.gateway.timeouts, mark: 0 }) : null;
  const pooledRoutes = new Map<EndpointPlan, Route>();
  for (const plan of plans.values()) {
    const { endpoint } = plan;
    if (endpoint.service.pool === null) continue;
    const memberTarget = (host: string, port: number, name: string | null): UpstreamTarget => ({ ...targetFor(endpoint, name), host, port });
    const pool = serverPools.add(
      `${endpoint.serverGroup.name}/${endpoint.service.name} ${endpointKey(endpoint.address, endpoint.port)}`,
      endpointPool(endpoint.address, endpoint.port, endpoint.service.pool),
      // Health checks (and gateway-ip traffic) come from the gateway's own address.
      (m) => gatewayPools.get(memberTarget(m.address, m.port, null)),
      (server, req) => {
        const name = upstreamName(plan, req.socket);
        const target = memberTarget(server.member.address, server.member.port, name || null);
        if (poolUpstreams === null) return name === '' ? server.upstream : gatewayPools.get(target);
        const client = req.socket.remoteAddress ?? '';
        return poolUpstreams.get(`${client}${plan.keySuffix}${server.index}|${name}`, client, target, (u) => u);
      },
    );
    pooledRoutes.set(plan, { ...routeFor(plan, pool.servers[0]!.upstream), pool });
  }

  const lookup: RouteLookup = (_host, _path, req) => {
    const socket = req.socket;
    const plan = planOf(socket);
    if (plan === undefined) return null;
    const pooled = pooledRoutes.get(plan);
    if (pooled !== undefined) return pooled;
    const name = upstreamName(plan, socket);
    if (clientPools !== null) {
      // The kernel reports the peer in canonical form (v6-only listeners: never v4-mapped).
      const client = socket.remoteAddress ?? '';
      return clientPools.get(client + plan.keySuffix + name, client, targetFor(plan.endpoint, name || null),
        (upstream) => routeFor(plan, upstream));
    }
    let route = plan.byName.get(name);
    if (route === undefined) {
      if (name !== '' && plan.byName.size >= MAX_NAMES_PER_ENDPOINT) return plan.byName.get('') ?? lookupUnnamed(plan);
      route = routeFor(plan, gatewayPools.get(targetFor(plan.endpoint, name || null)));
      plan.byName.set(name, route);
    }
    return route;
  };
  const lookupUnnamed = (plan: EndpointPlan): Route => {
    const route = routeFor(plan, gatewayPools.get(targetFor(plan.endpoint, null)));
    plan.byName.set('', route);
    return route;
  };

  /**
   * A connection whose original destination is no protected endpoint: the nft sets and this runtime
   * disagree (a reload in progress, or rules installed by hand). Answer 502 and close, and say so.
   */
  const unmatched = (socket: GatewayRequest['socket']): void => {
    log.warn({ local: `${socket.localAddress}:${socket.localPort}`, peer: socket.remoteAddress },
      'intercepted a connection to an address:port no service protects; answered 502 and closed');
  };

  const listeners: ListenerSpec[] = [];
  const listenOffset = bridge.design === 'A' ? DESIGN_A_PORT_OFFSET : 0;
  for (const [port, plan] of compiled.ports) {
    const tls = plan.tls ? tlsByPort.get(port)!.listener : null;
    const listenPort = port + listenOffset;
    const first = plan.endpoints[0]!;
    const addresses = [...(plan.v4 ? ['0.0.0.0'] : []), ...(plan.v6 ? ['::'] : [])];
    for (const address of addresses) {
      listeners.push({
        key: address === '::' ? `[::]:${listenPort}` : `${address}:${listenPort}`,
        address,
        port: listenPort,
        tls,
        transparent: true,
        source: `${first.source} (${listenOffset === 0 ? '' : `design A, for `}port ${port}${plan.endpoints.length > 1 ? ` and ${plan.endpoints.length - 1} more endpoint(s)` : ''})`,
        onRequest(req: GatewayRequest, res: GatewayResponse): void {
          if (planOf(req.socket) === undefined) {
            unmatched(req.socket);
            res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': UNMATCHED_BODY.length, connection: 'close' });
            res.end(UNMATCHED_BODY);
            return;
          }
          pipeline.handleRequest(req, res, lookup);
        },
        onUpgrade(req: GatewayRequest, socket: Duplex, head: Buffer): void {
          if (planOf(req.socket) === undefined) {
            unmatched(req.socket);
            socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
            return;
          }
          pipeline.handleUpgrade(req, socket, head, lookup);
        },
      });
    }
  }

  return { listeners, ...proxyRuntimeLifecycle(pipeline, serverPools, [gatewayPools, clientPools, poolUpstreams]) };
};
