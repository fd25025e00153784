/**
 * Typed builders for GatewayConfig in tests: plain frozen-shaped object literals with the loader's
 * defaults, so tests do not depend on the YAML loader.
 */
import type {
  Alias, Certificate, ClientAuth, ForwardedClientIp, ForwardedConnections, GatewayConfig, GatewaySection,
  OperationMode, OutboundRule, ReverseProxyRule, ServerGroup, Service, Site, SourcePos,
} from '../../src/config/types.js';
import type { Pem } from '../helpers/certs.js';

const POS: SourcePos = { file: '/test/config.yaml', line: 1, col: 1 };

export function alias(name: string, address = '127.0.0.1'): Alias {
  return { name, device: 'lo', address, prefixLength: address.includes(':') ? 128 : 32,
    family: address.includes(':') ? 6 : 4, pos: POS };
}

export function certificate(name: string, pem: Pem, dnsNames: readonly string[]): Certificate {
  return { name, certFile: pem.certFile, keyFile: pem.keyFile, chainFile: null, cert: pem.cert, key: pem.key,
    chain: null, dnsNames: dnsNames.map((d) => d.toLowerCase()), pos: POS };
}

export function outbound(partial: Partial<OutboundRule> & Pick<OutboundRule, 'priority' | 'serverPort'>): OutboundRule {
  return {
    host: '*', urlPrefix: '/', serverIp: partial.serverHost === undefined ? '127.0.0.1' : null, serverHost: null,
    encrypt: false, validateServerCertificate: true, caFile: null, ca: null, serverName: null, pool: null, pos: POS,
    ...partial,
  };
}

export function reverseProxy(aliasRef: Alias, port: number, rules: readonly OutboundRule[],
  tlsCertificate: Certificate | null = null): ReverseProxyRule {
  return {
    alias: aliasRef.name, aliasRef, port, tls: tlsCertificate !== null,
    serverCertificate: tlsCertificate?.name ?? null, serverCertificateRef: tlsCertificate,
    rules: [...rules].sort((a, b) => a.priority - b.priority), pos: POS,
  };
}

export const DEFAULT_FORWARDED_CLIENT_IP: ForwardedClientIp = {
  enabled: true, header: 'X-Forwarded-For', addProto: true, addHost: true,
};

export function forwardedConnections(trustedProxies: readonly string[], header = 'X-Forwarded-For'): ForwardedConnections {
  return { header, headerLower: header.toLowerCase(), trustedProxies };
}

export function clientAuth(ca: Pem, required = true): ClientAuth {
  return { caFile: ca.certFile, ca: ca.cert, required };
}

export function service(name: string, reverseProxies: readonly ReverseProxyRule[],
  options: Partial<Service> = {}): Service {
  return {
    name, ports: [], sslPorts: [], certificates: [], forwardedConnections: null,
    forwardedClientIp: DEFAULT_FORWARDED_CLIENT_IP, encrypt: false, validateServerCertificate: true, caFile: null,
    ca: null, clientAuth: null, pool: null, reverseProxy: reverseProxies, pos: POS, ...options,
  };
}

export function serverGroup(name: string, services: readonly Service[], operationMode: OperationMode = 'active'): ServerGroup {
  return {
    name, operationMode, servers: [], services, pos: POS,
    policies: {
      crs: null, secLang: { files: [], directives: null },
      native: { ipAllow: [], ipDeny: [], allowedMethods: null, maxUrlBytes: null, maxHeaderBytes: null,
        maxBodyBytes: null, rateLimit: null, rules: [] },
    },
  };
}

export function site(name: string, serverGroups: readonly ServerGroup[]): Site {
  return { name, serverGroups, pos: POS };
}

export interface GatewayOverrides {
  limits?: Partial<GatewaySection['limits']>;
  timeouts?: Partial<GatewaySection['timeouts']>;
  blockPage?: Partial<GatewaySection['blockPage']>;
  alerts?: Partial<GatewaySection['alerts']>;
  aliases?: readonly Alias[];
}

export function gatewayConfig(sites: readonly Site[], overrides: GatewayOverrides = {}): GatewayConfig {
  return {
    sourceFile: POS.file,
    sites,
    gateway: {
      mode: 'alias',
      workers: 1,
      log: { level: 'info', file: null, accessLog: true },
      alerts: { file: null, ruleIdsHeader: null, ...overrides.alerts },
      control: { socket: '/tmp/portcullis-test.sock' },
      aliases: overrides.aliases ?? [],
      bridge: { interface: 'br0', ports: ['ext0', 'int0'], transparency: 'client-ip', failure: 'open', design: 'B',
        mark: 1, routeTable: 100, nftTable: 'portcullis', mac: null },
      sniff: { interface: 'eth1', snapLength: 65535, bufferBytes: 16777216, flowBufferBytes: 1048576,
        totalBufferBytes: 67108864, maxFlows: 100000, idleTimeoutMs: 120000, statsIntervalMs: 60000 },
      nfqueue: { enabled: false, queue: 0, denyIps: [], denyPorts: [], dropBlockedFlows: true, blockedFlowTtlMs: 600000 },
      limits: { maxHeaderCount: 100, maxHeaderBytes: 16384, maxUrlBytes: 8192, maxRequestBodyBytes: 0,
        streamHighWaterMark: 65536, ...overrides.limits },
      timeouts: { connectMs: 5000, upstreamHeadersMs: 60000, idleMs: 60000, clientHeadersMs: 30000,
        keepAliveMs: 5000, shutdownGraceMs: 10000, ...overrides.timeouts },
      blockPage: { status: 403, file: null, contentType: 'text/html; charset=utf-8', ...overrides.blockPage },
      crs: { rulesDir: '/usr/share/modsecurity-crs/rules', setupFile: '/etc/modsecurity/crs/crs-setup.conf' },
      skipAddressCheck: true,
    },
  };
}

/** The common case: one group, one service, one reverse-proxy entry on 127.0.0.1:port. */
export function singleServiceConfig(port: number, rules: readonly OutboundRule[],
  options: { service?: Partial<Service>; tlsCertificate?: Certificate | null; operationMode?: OperationMode } & GatewayOverrides = {}): GatewayConfig {
  const vip = alias('vip1');
  const svc = service('web', [reverseProxy(vip, port, rules, options.tlsCertificate ?? null)], options.service);
  return gatewayConfig([site('Default Site', [serverGroup('shop', [svc], options.operationMode)])],
    { ...options, aliases: [vip] });
}
