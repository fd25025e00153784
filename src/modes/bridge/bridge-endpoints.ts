/**
 * The protected endpoints of a bridge-mode configuration, compiled once per configuration: every
 * (server address, port) of every server group × the plain and TLS ports of its services, mapped to the
 * server group and service that own it. The accepted socket's local address:port is the original
 * destination, so a per-connection lookup is one Map.get on a canonical "address|port" key.
 */
import { isIP } from 'node:net';
import type { GatewayConfig, ServerGroup, Service } from '../../config/types.js';

export class BridgeRuntimeError extends Error {
  constructor(
    readonly code: 'ENDPOINT_CONFLICT' | 'LISTENER_TLS_CONFLICT' | 'NO_CERTIFICATE' | 'BRIDGE_TLS_CONFIG' | 'BRIDGE_WORKERS',
    message: string,
  ) {
    super(message);
  }
}

/** One protected address:port and what it belongs to. */
export interface BridgeEndpoint {
  /** Dense index, for per-endpoint tables. */
  readonly index: number;
  /** Canonical address (IPv6 compressed, lower-case). */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  readonly tls: boolean;
  readonly serverGroup: ServerGroup;
  readonly service: Service;
  /** "file:line:col sites[i].serverGroups[j].services[k]", for messages. */
  readonly source: string;
}

/** Canonical text of an IP literal as the kernel reports it in socket.localAddress. */
export function canonicalAddress(address: string): string {
  const v4mapped = address.startsWith('::ffff:') && address.indexOf('.') > 0;
  if (v4mapped) return address.slice(7);
  if (isIP(address) !== 6) return address;
  // WHATWG URL serialises IPv6 hosts in RFC 5952 form, which is what getsockname() gives us.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

export function endpointKey(address: string, port: number): string {
  return `${address}|${port}`;
}

export interface CompiledEndpoints {
  readonly list: readonly BridgeEndpoint[];
  readonly byKey: ReadonlyMap<string, BridgeEndpoint>;
  /** Listener ports: port → { tls, families present, endpoints on it }. */
  readonly ports: ReadonlyMap<number, { readonly tls: boolean; readonly v4: boolean; readonly v6: boolean; readonly endpoints: readonly BridgeEndpoint[] }>;
}

export function compileEndpoints(config: GatewayConfig): CompiledEndpoints {
  const list: BridgeEndpoint[] = [];
  const byKey = new Map<string, BridgeEndpoint>();
  const ports = new Map<number, { tls: boolean; v4: boolean; v6: boolean; endpoints: BridgeEndpoint[] }>();
  config.sites.forEach((site, si) => {
    site.serverGroups.forEach((serverGroup, gi) => {
      serverGroup.services.forEach((service, vi) => {
        const source = `${service.pos.file}:${service.pos.line}:${service.pos.col} sites[${si}].serverGroups[${gi}].services[${vi}]`;
        const portsOfService: Array<[number, boolean]> = [
          ...service.ports.map((p): [number, boolean] => [p, false]),
          ...service.sslPorts.map((p): [number, boolean] => [p, true]),
        ];
        for (const server of serverGroup.servers) {
          const address = canonicalAddress(server);
          const family = isIP(address) === 6 ? 6 : 4;
          for (const [port, tls] of portsOfService) {
            const key = endpointKey(address, port);
            const owner = byKey.get(key);
            if (owner !== undefined) {
              throw new BridgeRuntimeError('ENDPOINT_CONFLICT',
                `${source}: ${server} port ${port} is already protected by service ${owner.service.name} (${owner.source})`);
            }
            const plan = ports.get(port);
            if (plan !== undefined && plan.tls !== tls) {
              const other = plan.endpoints[0]!;
              throw new BridgeRuntimeError('LISTENER_TLS_CONFLICT',
                `${source}: port ${port} is ${tls ? 'an sslPort' : 'a plain port'} here but ${tls ? 'a plain port' : 'an sslPort'} of service ${other.service.name} (${other.source}); bridge mode has one listener per port`);
            }
            const endpoint: BridgeEndpoint = { index: list.length, address, family, port, tls, serverGroup, service, source };
            list.push(endpoint);
            byKey.set(key, endpoint);
            if (plan === undefined) ports.set(port, { tls, v4: family === 4, v6: family === 6, endpoints: [endpoint] });
            else {
              plan.endpoints.push(endpoint);
              if (family === 6) plan.v6 = true;
              else plan.v4 = true;
            }
          }
        }
      });
    });
  });
  return { list, byKey, ports };
}
