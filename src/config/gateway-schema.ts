/**
 * The configuration file, described once: every object with its keys, decoders and defaults, and a
 * `derive` step where an object's own keys combine (files read, derived fields). Relations between
 * objects (references, uniqueness across lists, mode requirements) live in cross-checks.ts.
 *
 * The defaults here are the ones documented in types.ts and docs/CONFIGURATION.md; keep them in step.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { isMap, isScalar, YAMLMap, type Node as YamlNode } from 'yaml';
import { loadKeyPair, readCertificateBundle, readTextFile } from './pem-files.js';
import {
  bool, either, int, INVALID, list, map, nameOf, nullable, num, object, oneOf, optional, record, required, scalar, section, str,
  wrongType, type DecodeContext, type Decoder, type Decoded,
} from './schema.js';
import type {
  Alias, BlockPage, BridgeSection, Certificate, ClientAuth, CrsPolicy, CustomMatch, CustomRule, ForwardedClientIp,
  ForwardedConnections, GatewaySection, Limits, NativePolicies, OutboundRule, Policies, RateLimit, ReverseProxyRule,
  NfqueueSection, SecLangPolicy, ServerGroup, Service, Site, SniffSection, StringMatch, Timeouts,
} from './types.js';
import {
  cidr, filePath, headerName, hostname, hostPattern, httpMethod, interfaceAddress, interfaceName, ipAddress, macAddress,
  port, urlPrefix,
} from './value-decoders.js';
import { outboundRulePool, poolInsteadOfServer, servicePool } from '../pools/pool-schema.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const MiB = 1024 * 1024;
const DAY_MS = 86_400_000;

/** Free-form display names (sites, groups, services, aliases, certificates): one line, not empty. */
const label = str({ pattern: /^[^\x00-\x1f\x7f]+$/, patternHelp: 'a name on one line' });

/** Reads a CA bundle named by key `key` of the mapping being derived. */
function readCa(file: string | null, node: YamlNode, path: string, key: string, cx: DecodeContext): Decoded<string | null> {
  if (file === null) return null;
  return readCertificateBundle(file, 'CA file', { node, path, key }, cx);
}

// ---------------------------------------------------------------------------------------------
// gateway
// ---------------------------------------------------------------------------------------------

const WORKERS_EXPECTED = '"auto" or an integer from 1 to 1024';
const workerCount = int(1, 1024, WORKERS_EXPECTED);
const workers: Decoder<number> = {
  expected: WORKERS_EXPECTED,
  decode(node, path, cx) {
    if (isScalar(node) && node.value === 'auto') return availableParallelism();
    if (isScalar(node) && typeof node.value === 'number') return workerCount.decode(node, path, cx);
    return wrongType(node, path, cx, WORKERS_EXPECTED);
  },
};

const logSection = object<GatewaySection['log']>({
  level: optional(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const), 'info'),
  file: optional(nullable(filePath), null),
  accessLog: optional(bool, true),
});

const alertsSection = object<GatewaySection['alerts']>({
  file: optional(nullable(filePath), null),
  ruleIdsHeader: optional(nullable(headerName), null),
});

const controlSection = object<GatewaySection['control']>({
  // The environment wins over the built-in default so tests and unprivileged runs can use a temp socket.
  socket: optional(filePath, (cx) => resolve(cx.env.PORTCULLIS_CONTROL || '/run/portcullis/control.sock')),
});

const alias = object<Alias>({
  name: required(label),
  device: required(interfaceName),
  address: required(interfaceAddress),
}, {
  withPos: true,
  derive: (raw) => ({
    name: raw.name, device: raw.device, address: raw.address.address,
    prefixLength: raw.address.prefixLength, family: raw.address.family,
  } as Alias),
});

const bridgeSection = object<BridgeSection>({
  interface: optional(interfaceName, 'br0'),
  ports: optional(list(interfaceName, { minItems: 2, uniqueItems: true }), ['ext0', 'int0']),
  transparency: optional(oneOf(['client-ip', 'gateway-ip'] as const), 'client-ip'),
  failure: optional(oneOf(['open', 'closed'] as const), 'open'),
  design: optional(oneOf(['B', 'A'] as const), 'B'),
  mark: optional(int(1, 0xffffffff, 'an integer from 1 to 0xffffffff'), 0x1),
  // 253–255 are the kernel's default, main and local tables.
  routeTable: optional(int(1, 252, 'an integer from 1 to 252'), 100),
  nftTable: optional(str({ pattern: /^[A-Za-z][A-Za-z0-9_]{0,31}$/, patternHelp: 'an nftables table name (letters, digits, _)' }), 'portcullis'),
  mac: optional(nullable(macAddress), null),
});

const sniffSection = object<SniffSection>({
  interface: optional(interfaceName, 'eth1'),
  snapLength: optional(int(64, 262144), 65535),
  bufferBytes: optional(int(MiB, 2048 * MiB, 'an integer from 1048576 (1 MiB) to 2147483648 (2 GiB)'), 16 * MiB),
  flowBufferBytes: optional(int(4096, 1024 * MiB), MiB),
  totalBufferBytes: optional(int(MiB, 64 * 1024 * MiB), 64 * MiB),
  maxFlows: optional(int(16, 100_000_000), 100_000),
  idleTimeoutMs: optional(int(1000, DAY_MS, 'an integer number of milliseconds from 1000 to 86400000'), 120_000),
  statsIntervalMs: optional(int(0, DAY_MS, 'an integer number of milliseconds from 0 (never) to 86400000'), 60_000),
});

const nfqueueSection = object<NfqueueSection>({
  enabled: optional(bool, false),
  queue: optional(int(0, 65535), 0),
  denyIps: optional(list(cidr), []),
  denyPorts: optional(list(port, { uniqueItems: true }), []),
  dropBlockedFlows: optional(bool, true),
  blockedFlowTtlMs: optional(int(1000, DAY_MS, 'an integer number of milliseconds from 1000 to 86400000'), 600_000),
});

const limitsSection = object<Limits>({
  maxHeaderCount: optional(int(1, 10_000), 100),
  maxHeaderBytes: optional(int(1024, 1 * MiB), 16384),
  maxUrlBytes: optional(int(16, 1 * MiB), 8192),
  maxRequestBodyBytes: optional(int(0, Number.MAX_SAFE_INTEGER, 'an integer ≥ 0 (0 = unlimited)'), 0),
  streamHighWaterMark: optional(int(1024, 64 * MiB), 65536),
});

const ms = (min = 1) => int(min, DAY_MS, `an integer number of milliseconds from ${min} to ${DAY_MS}`);
const timeoutsSection = object<Timeouts>({
  connectMs: optional(ms(), 5000),
  upstreamHeadersMs: optional(ms(), 60000),
  idleMs: optional(ms(), 60000),
  clientHeadersMs: optional(ms(), 30000),
  keepAliveMs: optional(ms(), 5000),
  shutdownGraceMs: optional(ms(0), 10000),
});

const blockPageSection = object<BlockPage>({
  status: optional(int(200, 599), 403),
  file: optional(nullable(filePath), null),
  contentType: optional(str(), 'text/html; charset=utf-8'),
}, {
  derive: (raw, node, path, cx) => {
    // The template is read by the daemon; reading it here turns a typo into a configuration error.
    if (raw.file !== null && readTextFile(raw.file, 'block page', { node, path, key: 'file' }, cx) === INVALID) return INVALID;
    return raw as BlockPage;
  },
});

const crsLocation = object<GatewaySection['crs']>({
  rulesDir: optional(filePath, '/usr/share/modsecurity-crs/rules'),
  setupFile: optional(filePath, '/etc/modsecurity/crs/crs-setup.conf'),
});

export const gatewaySection = object<GatewaySection>({
  mode: required(oneOf(['alias', 'bridge', 'sniff'] as const)),
  workers: optional(workers, 1),
  log: section(logSection),
  alerts: section(alertsSection),
  control: section(controlSection),
  aliases: optional(list(alias), []),
  bridge: section(bridgeSection),
  sniff: section(sniffSection),
  nfqueue: section(nfqueueSection),
  limits: section(limitsSection),
  timeouts: section(timeoutsSection),
  blockPage: section(blockPageSection),
  crs: section(crsLocation),
  skipAddressCheck: optional(bool, false),
});

// ---------------------------------------------------------------------------------------------
// policies
// ---------------------------------------------------------------------------------------------

/** "942100", 942100 or a range "942100-942199"; stored as a string. */
const ruleIdSpec: Decoder<string> = {
  expected: 'a rule id or a range such as 942100-942199',
  decode(node, path, cx) {
    if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value) && node.value > 0) return String(node.value);
    if (!isScalar(node) || typeof node.value !== 'string') return wrongType(node, path, cx, this.expected);
    const m = /^(\d+)(?:-(\d+))?$/.exec(node.value);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) {
      return cx.report(node, path, 'BAD_FORMAT', `${nameOf(path)} must be ${this.expected} (got ${JSON.stringify(node.value)})`);
    }
    return node.value;
  },
};

const paranoia = int(1, 4);

const crsPolicy = object<Mutable<CrsPolicy>>({
  paranoiaLevel: optional(paranoia, 1),
  executingParanoiaLevel: optional(nullable(paranoia), null),
  inboundAnomalyThreshold: optional(int(1, 100_000), 5),
  outboundAnomalyThreshold: optional(int(1, 100_000), 4),
  // null here = inherit gateway.crs (filled in by cross-checks, which see the gateway section).
  rulesDir: optional(nullable(filePath), null),
  setupFile: optional(nullable(filePath), null),
  removeRuleIds: optional(list(ruleIdSpec, { uniqueItems: true }), []),
  removeRuleTags: optional(list(str(), { uniqueItems: true }), []),
  before: optional(list(str()), []),
  setVars: optional(record<string | number>(
    scalar('a string or a number', (v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))),
    /^[A-Za-z_][A-Za-z0-9_.]*$/, 'a TX variable name (letters, digits, _ and .)'), {}),
}, {
  derive: (raw, node, path, cx) => {
    if (raw.executingParanoiaLevel !== null && raw.executingParanoiaLevel < raw.paranoiaLevel) {
      return cx.reportKey(node, path, 'executingParanoiaLevel', 'OUT_OF_RANGE',
        `executingParanoiaLevel (${raw.executingParanoiaLevel}) must not be below paranoiaLevel (${raw.paranoiaLevel})`);
    }
    return raw as Mutable<CrsPolicy>;
  },
});

/** `crs: false` (or absent) = no CRS; `crs: true` = CRS with every default; a mapping = CRS configured. */
const crsOrOff: Decoder<Mutable<CrsPolicy> | null> = {
  expected: 'a mapping, true or false',
  acceptsNull: true,
  decode(node, path, cx) {
    if (isScalar(node) && (node.value === null || node.value === false)) return null;
    if (isScalar(node) && node.value === true) return crsPolicy.decode(new YAMLMap(), path, cx);
    if (isMap(node)) return crsPolicy.decode(node, path, cx);
    return wrongType(node, path, cx, this.expected);
  },
};

const secLangPolicy = object<SecLangPolicy>({
  files: optional(list(filePath), []),
  directives: optional(nullable(str({ nonEmpty: false })), null),
});

const stringMatch = object<StringMatch>({
  kind: required(oneOf(['exact', 'prefix', 'regex'] as const)),
  value: required(str({ nonEmpty: false })),
  caseInsensitive: optional(bool, false),
}, {
  derive: (raw, node, path, cx) => {
    if (raw.kind === 'regex') {
      try {
        new RegExp(raw.value, raw.caseInsensitive ? 'i' : '');
      } catch (err) {
        return cx.reportKey(node, path, 'value', 'BAD_REGEX', `regex ${JSON.stringify(raw.value)} does not compile: ${(err as Error).message}`);
      }
    }
    return raw as StringMatch;
  },
});

const namedMatch = (nameDecoder: Decoder<string>) => object<{ name: string; value: StringMatch }>({
  name: required(nameDecoder),
  value: required(stringMatch),
});

const customMatch = object<CustomMatch>({
  method: optional(nullable(stringMatch), null),
  host: optional(nullable(stringMatch), null),
  path: optional(nullable(stringMatch), null),
  // Header names are matched case-insensitively, so they are stored lower-case (as node:http gives them).
  header: optional(nullable(namedMatch(map(headerName, (name) => name.toLowerCase()))), null),
  argument: optional(nullable(namedMatch(str())), null),
}, {
  derive: (raw, node, path, cx) => {
    if (raw.method === null && raw.host === null && raw.path === null && raw.header === null && raw.argument === null) {
      return cx.report(node, path, 'MISSING_KEY', `match needs at least one of method, host, path, header, argument`);
    }
    return raw as CustomMatch;
  },
});

const customRule = object<CustomRule>({
  id: required(int(1, 2 ** 31 - 1, 'an integer from 1 to 2147483647')),
  name: optional(nullable(label), null),
  action: optional(oneOf(['block', 'alert'] as const), 'block'),
  status: optional(int(200, 599), 403),
  match: required(customMatch),
}, {
  withPos: true,
  derive: (raw) => ({ ...raw, name: raw.name ?? `custom rule ${raw.id}` } as CustomRule),
});

const rateLimit = object<RateLimit>({
  requestsPerSecond: required(num(0, 1_000_000, 'a number greater than 0')),
  burst: optional(nullable(int(1, 10_000_000)), null),
  action: optional(oneOf(['block', 'alert'] as const), 'block'),
  status: optional(int(200, 599), 429),
}, {
  // Without an explicit burst, one second's worth of requests may arrive at once.
  derive: (raw) => ({ ...raw, burst: raw.burst ?? Math.max(1, Math.ceil(raw.requestsPerSecond)) } as RateLimit),
});

const nullableBytes = optional(nullable(int(1, Number.MAX_SAFE_INTEGER, 'a positive integer number of bytes')), null);

const nativePolicies = object<NativePolicies>({
  ipAllow: optional(list(cidr), []),
  ipDeny: optional(list(cidr), []),
  allowedMethods: optional(nullable(list(httpMethod, { minItems: 1, uniqueItems: true })), null),
  maxUrlBytes: nullableBytes,
  maxHeaderBytes: nullableBytes,
  maxBodyBytes: nullableBytes,
  rateLimit: optional(nullable(rateLimit), null),
  rules: optional(list(customRule), []),
});

export const policies = object<Policies>({
  crs: optional(crsOrOff, null),
  secLang: section(secLangPolicy),
  native: section(nativePolicies),
});

// ---------------------------------------------------------------------------------------------
// sites → server groups → services → reverse-proxy rules
// ---------------------------------------------------------------------------------------------

const certificate = object<Certificate>({
  name: required(label),
  cert: required(filePath),
  key: required(filePath),
  chain: optional(nullable(filePath), null),
}, {
  withPos: true,
  derive: (raw, node, path, cx) => {
    const files = { certFile: raw.cert as string, keyFile: raw.key as string, chainFile: raw.chain as string | null };
    const pair = loadKeyPair(files, node, path, cx);
    if (pair === INVALID) return INVALID;
    return { name: raw.name, ...files, cert: pair.cert, key: pair.key, chain: pair.chain, dnsNames: pair.dnsNames } as unknown as Certificate;
  },
});

const forwardedConnections = object<ForwardedConnections>({
  header: optional(headerName, 'X-Forwarded-For'),
  trustedProxies: required(list(cidr, { minItems: 1 })),
}, {
  derive: (raw) => ({ header: raw.header, headerLower: raw.header.toLowerCase(), trustedProxies: raw.trustedProxies } as ForwardedConnections),
});

/** Bridge mode with `transparency: client-ip` (its default), read from the document being decoded. */
function serverSeesClient(cx: DecodeContext): boolean {
  return cx.doc.getIn(['gateway', 'mode']) === 'bridge'
    && (cx.doc.getIn(['gateway', 'bridge', 'transparency']) ?? 'client-ip') === 'client-ip';
}

const forwardedClientIpObject = object<ForwardedClientIp>({
  enabled: optional(bool, true),
  header: optional(headerName, 'X-Forwarded-For'),
  addProto: optional(bool, true),
  addHost: optional(bool, true),
});

/** `forwardedClientIp: false` is shorthand for `{ enabled: false }`, `true` for every default. */
const forwardedClientIp = either<ForwardedClientIp>('true, false or a mapping', [
  { when: isMap, decoder: forwardedClientIpObject },
  {
    when: (n) => isScalar(n) && typeof n.value === 'boolean',
    decoder: {
      expected: 'true or false',
      decode: (n, p, cx) => {
        const d = forwardedClientIpObject.decode(new YAMLMap(), p, cx);
        return d === INVALID ? d : { ...d, enabled: (n as { value: boolean }).value };
      },
    },
  },
]);

const clientAuth = object<ClientAuth>({
  caFile: required(filePath),
  required: optional(bool, true),
}, {
  derive: (raw, node, path, cx) => {
    const ca = readCa(raw.caFile, node, path, 'caFile', cx);
    return ca === INVALID ? INVALID : ({ caFile: raw.caFile, ca, required: raw.required } as ClientAuth);
  },
});

const outboundRule = object<OutboundRule>({
  priority: required(int(1, 1_000_000)),
  host: optional(hostPattern, '*'),
  urlPrefix: optional(urlPrefix, '/'),
  serverIp: optional(nullable(ipAddress('; use serverHost for a host name')), null),
  serverHost: optional(nullable(hostname), null),
  // Required unless a pool names the servers (checked in derive).
  serverPort: optional(nullable(port), null),
  encrypt: optional(bool, false),
  validateServerCertificate: optional(bool, true),
  caFile: optional(nullable(filePath), null),
  serverName: optional(nullable(hostname), null),
  pool: optional(nullable(outboundRulePool), null),
}, {
  withPos: true,
  derive: (raw, node, path, cx) => {
    if (raw.pool !== null) {
      const pooled = poolInsteadOfServer(raw, node, path, cx);
      if (pooled === INVALID) return INVALID;
      raw = pooled;
    } else if (raw.serverPort === null) {
      // Same words as any missing required key: a pool is the only alternative, and docs/POOLS.md says so.
      return cx.reportKey(node, path, 'serverPort', 'MISSING_KEY', 'required key "serverPort" is missing');
    }
    if (raw.serverIp === null && raw.serverHost === null) {
      return cx.reportKey(node, path, 'serverIp', 'MISSING_KEY', 'one of serverIp or serverHost is required');
    }
    if (raw.serverIp !== null && raw.serverHost !== null) {
      return cx.reportKey(node, path, 'serverHost', 'CONFLICT', 'give serverIp or serverHost, not both');
    }
    const ca = readCa(raw.caFile, node, path, 'caFile', cx);
    if (ca === INVALID) return INVALID;
    return { ...raw, ca, serverName: raw.serverName ?? raw.serverHost } as OutboundRule;
  },
});

const reverseProxyRule = object<Mutable<ReverseProxyRule> & { tlsExplicit: boolean | null }>({
  alias: required(label),
  port: required(port),
  tls: optional(nullable(bool), null),
  serverCertificate: optional(nullable(label), null),
  rules: required(list(outboundRule, { minItems: 1 })),
}, { withPos: true });

const portList = optional(list(port, { uniqueItems: true }), []);

const service = object<Mutable<Service>>({
  name: required(label),
  ports: portList,
  sslPorts: portList,
  certificates: optional(list(certificate), []),
  forwardedConnections: optional(nullable(forwardedConnections), null),
  // Default on, except in bridge mode with transparency client-ip: the server sees the client's own
  // address there, and a transparent gateway adds nothing to the request unless asked.
  forwardedClientIp: optional(forwardedClientIp, (cx) => ({ enabled: !serverSeesClient(cx), header: 'X-Forwarded-For', addProto: true, addHost: true })),
  encrypt: optional(bool, false),
  validateServerCertificate: optional(bool, true),
  caFile: optional(nullable(filePath), null),
  clientAuth: optional(nullable(clientAuth), null),
  pool: optional(nullable(servicePool), null),
  reverseProxy: optional(list(reverseProxyRule), []),
}, {
  withPos: true,
  derive: (raw, node, path, cx) => {
    const both = (raw.ports as number[]).filter((p) => (raw.sslPorts as number[]).includes(p));
    if (both.length > 0) {
      return cx.reportKey(node, path, 'sslPorts', 'CONFLICT', `port ${both[0]} is in both ports and sslPorts`);
    }
    const ca = readCa(raw.caFile, node, path, 'caFile', cx);
    return ca === INVALID ? INVALID : ({ ...raw, ca } as Mutable<Service>);
  },
});

const serverGroup = object<ServerGroup>({
  name: required(label),
  operationMode: optional(oneOf(['active', 'simulation', 'disabled'] as const), 'simulation'),
  servers: optional(list(ipAddress(), { uniqueItems: true }), []),
  policies: section(policies),
  services: required(list(service, { minItems: 1 })),
}, { withPos: true });

const site = object<Site>({
  name: required(label),
  serverGroups: required(list(serverGroup, { minItems: 1 })),
}, { withPos: true });

export const configFile = object<{ gateway: GatewaySection; sites: Site[] }>({
  gateway: required(gatewaySection),
  sites: required(list(site, { minItems: 1 })),
});

