/**
 * The `pool:` key of an outbound rule (alias mode) and of a service (bridge mode), described with the
 * configuration's declarative schema (src/config/schema.ts) so that a bad pool is reported like any
 * other key: file:line:col, key path, message. gateway-schema.ts plugs these decoders in.
 */
import { isScalar, type YAMLMap } from 'yaml';
import {
  bool, int, list, nameOf, nullable, object, oneOf, optional, required, str, wrongType, type DecodeContext, type Decoded,
  type Decoder, type Fields,
} from '../config/schema.js';
import type { HealthCheckConfig, PassiveHealthConfig, PoolMember, ServerPoolConfig } from '../config/types.js';
import { ipAddress, port } from '../config/value-decoders.js';

const DAY_MS = 86_400_000;
const ms = (min: number) => int(min, DAY_MS, `an integer number of milliseconds from ${min} to ${DAY_MS}`);

const EXPECT_STATUS = 'a status such as 200 or a range such as "200-399" (100–599)';

/** `200` or `"200-399"` → { min, max }. */
const statusRange: Decoder<HealthCheckConfig['expectStatus']> = {
  expected: EXPECT_STATUS,
  decode(node, path, cx) {
    if (!isScalar(node)) return wrongType(node, path, cx, EXPECT_STATUS);
    const text = typeof node.value === 'number' ? String(node.value) : node.value;
    if (typeof text !== 'string') return wrongType(node, path, cx, EXPECT_STATUS);
    const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(text);
    const min = m ? Number(m[1]) : NaN;
    const max = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || min < 100 || max > 599 || max < min) {
      return cx.report(node, path, 'BAD_FORMAT', `${nameOf(path)} must be ${EXPECT_STATUS} (got ${JSON.stringify(node.value)})`);
    }
    return { min, max };
  },
};

const hostHeader = str({ pattern: /^[A-Za-z0-9._~:[\]-]+$/, patternHelp: 'a Host header value such as www.example.com or 10.0.0.1:8080' });
const checkUrl = str({ pattern: /^\/[^\s#]*$/, patternHelp: 'a path on the server starting with "/", e.g. /healthz' });
const cookieName = str({ pattern: /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, patternHelp: 'a cookie name (letters, digits and !#$%&\'*+.^_`|~-)' });

const healthCheck = object<HealthCheckConfig>({
  url: optional(checkUrl, '/'),
  intervalMs: optional(ms(100), 5000),
  timeoutMs: optional(ms(10), 2000),
  expectStatus: optional(statusRange, { min: 200, max: 399 }),
  rise: optional(int(1, 100), 2),
  fall: optional(int(1, 100), 3),
  host: optional(nullable(hostHeader), null),
}, {
  derive: (raw, node, path, cx) => {
    // A check still running when the next one is due would overlap with it.
    if (raw.timeoutMs > raw.intervalMs) {
      return cx.reportKey(node, path, 'timeoutMs', 'CONFLICT', `timeoutMs (${raw.timeoutMs}) must not exceed intervalMs (${raw.intervalMs})`);
    }
    return raw as HealthCheckConfig;
  },
});

const passiveHealth = object<PassiveHealthConfig>({
  failures: optional(int(0, 1000, 'an integer from 0 (off) to 1000'), 3),
  downForMs: optional(ms(100), 10_000),
});

const memberFields = {
  address: required(ipAddress()),
  weight: optional(int(1, 1000), 1),
  backup: optional(bool, false),
};
const member = object<PoolMember>({ ...memberFields, port: required(port) }, { withPos: true });
/**
 * Bridge mode: a service protects several ports, and a standby usually serves the same ones, so the
 * port may be left out: 0 = the original destination's port.
 */
const bridgeMember = object<PoolMember>({ ...memberFields, port: optional(port, 0) }, { withPos: true });

/** `needsPrimary`: alias pools must list one; in bridge mode the original destination is the primary. */
function poolDecoder(memberDecoder: Decoder<PoolMember>, extra: Fields, needsPrimary: boolean): Decoder<ServerPoolConfig> {
  return object<ServerPoolConfig>({
    algorithm: optional(oneOf(['round-robin', 'least-connections', 'client-ip-hash'] as const), 'round-robin'),
    servers: required(list(memberDecoder, { minItems: 1 })),
    ...extra,
    healthCheck: optional(nullable(healthCheck), null),
    passive: optional(passiveHealth, { failures: 3, downForMs: 10_000 }),
  }, {
    withPos: true,
    derive: (raw, node, path, cx) => {
      const servers = raw.servers as PoolMember[];
      const seen = new Map<string, number>();
      for (const [i, s] of servers.entries()) {
        const key = `${s.address}|${s.port}`;
        const first = seen.get(key);
        if (first !== undefined) {
          return cx.reportKey(node, path, `servers[${i}]`, 'DUPLICATE',
            `server ${s.address} port ${s.port === 0 ? '(the original destination\'s)' : s.port} is listed twice (first as servers[${first}])`);
        }
        seen.set(key, i);
      }
      if (needsPrimary && servers.every((s) => s.backup)) {
        return cx.reportKey(node, path, 'servers', 'MISSING_KEY', 'a pool needs at least one server with backup: false (backups only stand in for primaries)');
      }
      // Primaries first: balancers and the health log see them in a stable, meaningful order.
      const ordered = [...servers.filter((s) => !s.backup), ...servers.filter((s) => s.backup)];
      return { ...raw, stickyCookie: raw.stickyCookie ?? null, servers: ordered } as unknown as ServerPoolConfig;
    },
  });
}

/** `pool:` of an alias-mode outbound rule. */
export const outboundRulePool: Decoder<ServerPoolConfig> = poolDecoder(member, { stickyCookie: optional(nullable(cookieName), null) }, true);

/**
 * `pool:` of a bridge-mode service. No cookie stickiness: a transparent gateway adds nothing to the
 * traffic unless asked, and the original destination already pins a client to its server.
 */
const bridgePool = poolDecoder(bridgeMember, {}, false);
export const servicePool: Decoder<ServerPoolConfig> = {
  expected: bridgePool.expected,
  decode(node, path, cx) {
    const mode = cx.doc.getIn(['gateway', 'mode']);
    if (mode !== 'bridge') {
      return cx.report(node, path, 'MODE_REQUIREMENT',
        `a service pool applies to bridge mode only (gateway.mode is ${JSON.stringify(mode)}); in alias mode give the pool to an outbound rule`);
    }
    return bridgePool.decode(node, path, cx);
  },
};

/**
 * An outbound rule with a pool: serverIp/serverHost/serverPort must not be given as well, and are set
 * to the first primary so that consumers showing one address per rule keep working.
 */
export function poolInsteadOfServer(raw: Record<string, any>, node: YAMLMap, path: string, cx: DecodeContext): Decoded<Record<string, any>> {
  for (const key of ['serverIp', 'serverHost', 'serverPort'] as const) {
    if (raw[key] !== null) {
      return cx.reportKey(node, path, key, 'CONFLICT', `give ${key} or a pool, not both (the pool lists the servers)`);
    }
  }
  const first = (raw.pool as ServerPoolConfig).servers[0]!;
  return { ...raw, serverIp: first.address, serverPort: first.port };
}
