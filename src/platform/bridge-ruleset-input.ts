/**
 * Builds the rule-set input from a loaded configuration (pure): the bridge section gives design,
 * failure mode, mark, routing table, nft table and ports; every server group contributes its servers ×
 * the plain and TLS ports of its services, as exact address.port endpoints (so groups with different
 * ports never intercept each other's ports).
 */
import type { GatewayConfig } from '../config/types.js';
import type { BridgeRulesetInput, ProtectedEndpoint } from './nft-ruleset.js';

/** Every protected endpoint of the configuration, in configuration order (duplicates removed). */
export function protectedEndpoints(config: GatewayConfig): ProtectedEndpoint[] {
  const seen = new Set<string>();
  const out: ProtectedEndpoint[] = [];
  for (const site of config.sites) {
    for (const group of site.serverGroups) {
      const ports = group.services.flatMap((s) => [...s.ports, ...s.sslPorts]);
      for (const address of group.servers) {
        for (const port of ports) {
          const key = `${address}|${port}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push({ address, port });
        }
      }
    }
  }
  return out;
}

/** The distinct listener ports Design B needs (one transparent listener per port and family). */
export function protectedPorts(config: GatewayConfig): number[] {
  return [...new Set(protectedEndpoints(config).map((e) => e.port))].sort((a, b) => a - b);
}

/**
 * @param bridgeMac the MAC to pin: `config.gateway.bridge.mac` when set, else what the bridge has now
 *   (read it with network-interfaces.ts `readInterfaceMac`).
 */
export function bridgeRulesetInputFromConfig(config: GatewayConfig, bridgeMac: string): BridgeRulesetInput {
  const b = config.gateway.bridge;
  return {
    design: b.design,
    table: b.nftTable,
    mark: b.mark,
    routeTable: b.routeTable,
    bridge: b.interface,
    bridgeMac: b.mac ?? bridgeMac,
    ports: b.ports,
    protectedV4: [],
    protectedV6: [],
    tcpPorts: [],
    failure: b.failure,
    endpoints: protectedEndpoints(config),
  };
}
