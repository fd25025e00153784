/**
 * Alias mode (one-leg reverse proxy): one listener per (alias address, port) named by any reverse-proxy
 * rule, each with one routing table over all the rules bound to it, and — for TLS ports — SNI selection
 * among their certificates. Everything is compiled here, once per configuration; the handlers only look
 * up and forward.
 */
import type { Duplex } from 'node:stream';
import type { Service } from '../../config/types.js';
import type { ListenerSpec, ModeRuntime, ModeRuntimeFactory } from '../../daemon/runtime.js';
import type { GatewayRequest, GatewayResponse } from '../../pipeline/http1/types.js';
import { proxyRuntimeLifecycle } from '../runtime-lifecycle.js';
import { ForwardingPolicy } from '../../pipeline/forwarded.js';
import { RequestPipeline } from '../../pipeline/request-pipeline.js';
import type { RouteLookup } from '../../pipeline/route.js';
import { UpstreamPools } from '../../pipeline/upstream-pools.js';
import { PoolSet } from '../../pools/pool-set.js';
import { OutboundRuleTable, type OutboundEntry } from './outbound-rules.js';
import { buildTlsListener } from './tls-contexts.js';

export class AliasRuntimeError extends Error {
  constructor(readonly code: 'LISTENER_TLS_CONFLICT' | 'NO_UPSTREAM', message: string) {
    super(message);
  }
}

interface ListenerPlan {
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
  readonly source: string;
  readonly entries: OutboundEntry[];
}

export const createAliasRuntime: ModeRuntimeFactory = (config, deps): ModeRuntime => {
  const pools = new UpstreamPools(config.gateway.timeouts);
  const serverPools = new PoolSet(deps.logger, deps.healthLog);
  const poolFor = ({ rule, service, serverGroup }: OutboundEntry) => serverPools.add(
    `${serverGroup.name}/${service.name} rule ${rule.priority}`, rule.pool!,
    (m) => pools.get({ host: m.address, port: m.port, encrypt: rule.encrypt, validateServerCertificate: rule.validateServerCertificate, ca: rule.ca, serverName: rule.serverName }),
  );
  const pipeline = new RequestPipeline(config, deps);
  const forwarding = new Map<Service, ForwardingPolicy>();
  const forwardingFor = (service: Service): ForwardingPolicy => {
    let policy = forwarding.get(service);
    if (policy === undefined) {
      policy = new ForwardingPolicy(service.forwardedConnections, service.forwardedClientIp);
      forwarding.set(service, policy);
    }
    return policy;
  };

  const plans = new Map<string, ListenerPlan>();
  for (const site of config.sites) {
    for (const serverGroup of site.serverGroups) {
      for (const service of serverGroup.services) {
        for (const reverseProxy of service.reverseProxy) {
          const address = reverseProxy.aliasRef.address;
          const key = `${address}:${reverseProxy.port}`;
          const where = `${reverseProxy.pos.file}:${reverseProxy.pos.line}:${reverseProxy.pos.col}`;
          let plan = plans.get(key);
          if (plan === undefined) {
            plan = { address, port: reverseProxy.port, tls: reverseProxy.tls, source: where, entries: [] };
            plans.set(key, plan);
          } else if (plan.tls !== reverseProxy.tls) {
            throw new AliasRuntimeError('LISTENER_TLS_CONFLICT',
              `${where}: ${key} is ${reverseProxy.tls ? 'TLS' : 'plain HTTP'} here but ${plan.tls ? 'TLS' : 'plain HTTP'} at ${plan.source}`);
          }
          for (const rule of reverseProxy.rules) {
            if (rule.serverIp === null && rule.serverHost === null) {
              throw new AliasRuntimeError('NO_UPSTREAM', `${rule.pos.file}:${rule.pos.line}:${rule.pos.col}: rule ${rule.priority} has neither serverIp nor serverHost`);
            }
            plan.entries.push({ rule, reverseProxy, service, serverGroup });
          }
        }
      }
    }
  }

  const listeners: ListenerSpec[] = [];
  for (const [key, plan] of plans) {
    const table = OutboundRuleTable.compile(plan.entries, pools, forwardingFor, poolFor);
    const lookup: RouteLookup = (host, path) => table.lookup(host, path);
    listeners.push({
      key,
      address: plan.address,
      port: plan.port,
      tls: plan.tls ? buildTlsListener(plan.entries, plan.source) : null,
      transparent: false,
      source: plan.source,
      onRequest(req: GatewayRequest, res: GatewayResponse): void {
        pipeline.handleRequest(req, res, lookup);
      },
      onUpgrade(req: GatewayRequest, socket: Duplex, head: Buffer): void {
        pipeline.handleUpgrade(req, socket, head, lookup);
      },
    });
  }

  return { listeners, ...proxyRuntimeLifecycle(pipeline, serverPools, [pools]) };
};
