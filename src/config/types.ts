/**
 * The validated, defaulted and frozen configuration. This file is the contract between the
 * configuration loader (src/config/load.ts) and every consumer (daemon, modes, policy engine).
 *
 * Names follow ../shared/PRODUCT.md (site → server group → service → reverse-proxy rule). The YAML
 * keys are exactly the property names below. Every optional YAML key has a default that the loader
 * applies; after loading, every property below is present (no `undefined` except where typed so).
 */

export type Mode = 'alias' | 'bridge' | 'sniff';
export type OperationMode = 'active' | 'simulation' | 'disabled';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Position of a value in its source file (1-based line and column). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface GatewayConfig {
  /** Absolute path of the file this configuration was loaded from. */
  readonly sourceFile: string;
  readonly gateway: GatewaySection;
  readonly sites: readonly Site[];
}

export interface GatewaySection {
  readonly mode: Mode;
  /** Number of worker processes; `auto` in YAML resolves to os.availableParallelism(). Default 1. */
  readonly workers: number;
  readonly log: {
    readonly level: LogLevel;             // default info
    readonly file: string | null;         // default null = stdout
    readonly accessLog: boolean;          // default true: one line per request
  };
  readonly alerts: {
    readonly file: string | null;         // default null = alerts go to the main log only
    /** Response header listing every matched rule id (for conformance runs). Default null = off. */
    readonly ruleIdsHeader: string | null;
  };
  /** Control socket used by `portcullis reload` and `portcullis status`. */
  readonly control: {
    readonly socket: string;              // default /run/portcullis/control.sock (or $PORTCULLIS_CONTROL)
  };
  readonly aliases: readonly Alias[];
  readonly bridge: BridgeSection;
  readonly sniff: SniffSection;
  readonly nfqueue: NfqueueSection;
  readonly limits: Limits;
  readonly timeouts: Timeouts;
  readonly blockPage: BlockPage;
  /** Where the OWASP CRS lives (Debian's modsecurity-crs by default). */
  readonly crs: {
    readonly rulesDir: string;            // default /usr/share/modsecurity-crs/rules
    readonly setupFile: string;           // default /etc/modsecurity/crs/crs-setup.conf
  };
  /** `true` skips the "alias address present on this host" check (tests and the demo bind loopback). */
  readonly skipAddressCheck: boolean;     // default false
}

export interface Alias {
  readonly name: string;
  readonly device: string;
  /** Address without prefix, e.g. "10.30.0.100" or "fd00::100". */
  readonly address: string;
  readonly prefixLength: number;
  readonly family: 4 | 6;
  readonly pos: SourcePos;
}

export interface BridgeSection {
  readonly interface: string;             // default br0
  readonly ports: readonly string[];      // default [ext0, int0]
  readonly transparency: 'client-ip' | 'gateway-ip'; // default client-ip
  readonly failure: 'open' | 'closed';    // default open
  readonly design: 'B' | 'A';             // default B
  readonly mark: number;                  // default 0x1 (policy-routing fwmark)
  readonly routeTable: number;            // default 100
  readonly nftTable: string;              // default portcullis
  /** Pin br0's MAC to this value; null = read it at apply time and pin that. */
  readonly mac: string | null;
}

/** Used when mode is sniff: where packets are captured (a mirror/SPAN port). */
export interface SniffSection {
  readonly interface: string;             // default eth1
  readonly snapLength: number;            // default 65535 (bytes captured per packet)
  readonly bufferBytes: number;           // default 16777216 (16 MiB kernel capture buffer)
  /** TCP reassembly: out-of-order bytes held per flow direction before the hole counts as a gap. */
  readonly flowBufferBytes: number;       // default 1048576 (1 MiB)
  /** TCP reassembly: out-of-order bytes held over all flows. */
  readonly totalBufferBytes: number;      // default 67108864 (64 MiB)
  readonly maxFlows: number;              // default 100000 (the oldest flow is evicted beyond)
  readonly idleTimeoutMs: number;         // default 120000: a flow without packets for this long ends
  readonly statsIntervalMs: number;       // default 60000: one stats line in the log (0 = never)
}

/**
 * NFQUEUE inline verdicts (sniff mode): packets queued by `iptables -j NFQUEUE --queue-num N
 * --queue-bypass` (iptables/nfqueue.sh) get a verdict from the deny lists and from the flows the engine
 * blocked. Disabled by default.
 */
export interface NfqueueSection {
  readonly enabled: boolean;              // default false
  readonly queue: number;                 // default 0 (0–65535, the --queue-num)
  /** CIDRs: packets from or to these addresses are dropped. */
  readonly denyIps: readonly string[];    // default []
  /** TCP/UDP destination ports whose packets are dropped. */
  readonly denyPorts: readonly number[];  // default []
  /** Drop the packets of flows that the engine blocked (as well as resetting them). */
  readonly dropBlockedFlows: boolean;     // default true
  /** How long a blocked flow stays in the drop list. */
  readonly blockedFlowTtlMs: number;      // default 600000 (10 minutes)
}

export interface Limits {
  readonly maxHeaderCount: number;        // default 100
  readonly maxHeaderBytes: number;        // default 16384 (request line + headers)
  readonly maxUrlBytes: number;           // default 8192
  /** Largest request body accepted; 0 = unlimited. Default 0 (bodies stream; inspection has its own limit). */
  readonly maxRequestBodyBytes: number;
  /** Bytes buffered per direction before back-pressure applies. Default 65536. */
  readonly streamHighWaterMark: number;
}

export interface Timeouts {
  readonly connectMs: number;             // default 5000: upstream TCP/TLS connect → 502/504
  readonly upstreamHeadersMs: number;     // default 60000: waiting for the upstream's response head → 504
  readonly idleMs: number;                // default 60000: body inactivity either way
  readonly clientHeadersMs: number;       // default 30000: slowloris guard (node:http headersTimeout)
  readonly keepAliveMs: number;           // default 5000: client keep-alive idle
  readonly shutdownGraceMs: number;       // default 10000: drain on stop/reload before closing
}

export interface BlockPage {
  readonly status: number;                // default 403
  /** HTML template; `{{incidentId}}`, `{{clientIp}}`, `{{ruleIds}}` are substituted. null = built-in page. */
  readonly file: string | null;
  readonly contentType: string;           // default text/html; charset=utf-8
}

export interface Site {
  readonly name: string;
  readonly serverGroups: readonly ServerGroup[];
  readonly pos: SourcePos;
}

export interface ServerGroup {
  readonly name: string;
  readonly operationMode: OperationMode;  // default simulation
  /** Protected server addresses (bridge mode intercepts these). IPv4/IPv6 literals. */
  readonly servers: readonly string[];
  readonly policies: Policies;
  readonly services: readonly Service[];
  readonly pos: SourcePos;
}

export interface Certificate {
  readonly name: string;
  readonly certFile: string;              // absolute path
  readonly keyFile: string;               // absolute path
  readonly chainFile: string | null;
  /** PEM contents, read and checked (cert matches key) at load time. */
  readonly cert: string;
  readonly key: string;
  readonly chain: string | null;
  /** DNS names from the certificate's SAN (and CN), lower-case, for SNI selection. */
  readonly dnsNames: readonly string[];
  readonly pos: SourcePos;
}

export interface Service {
  readonly name: string;
  readonly ports: readonly number[];      // plain HTTP ports, default []
  readonly sslPorts: readonly number[];   // HTTPS ports, default []
  readonly certificates: readonly Certificate[];
  readonly forwardedConnections: ForwardedConnections | null;
  readonly forwardedClientIp: ForwardedClientIp;
  /** TLS toward the server in bridge mode (alias mode uses the outbound rule's `encrypt`). */
  readonly encrypt: boolean;              // default false
  readonly validateServerCertificate: boolean; // default true
  readonly caFile: string | null;
  readonly ca: string | null;
  /** Client-certificate authentication on this service's TLS listeners. */
  readonly clientAuth: ClientAuth | null;
  /**
   * Bridge mode: servers to fail over to (docs/POOLS.md). The original destination stays a primary of
   * the pool, so traffic only moves when the config says so. null = the original destination only.
   */
  readonly pool: ServerPoolConfig | null; // default null
  readonly reverseProxy: readonly ReverseProxyRule[];
  readonly pos: SourcePos;
}

export interface ForwardedConnections {
  readonly header: string;                // e.g. X-Forwarded-For (stored lower-case in `headerLower`)
  readonly headerLower: string;
  /** CIDRs allowed to set the header, e.g. 10.10.0.0/24 or 127.0.0.1/32. */
  readonly trustedProxies: readonly string[];
}

export interface ForwardedClientIp {
  readonly enabled: boolean;              // default true in alias mode semantics (adds X-Forwarded-For)
  readonly header: string;                // default X-Forwarded-For
  readonly addProto: boolean;             // default true: X-Forwarded-Proto
  readonly addHost: boolean;              // default true: X-Forwarded-Host
}

export interface ClientAuth {
  readonly caFile: string;
  readonly ca: string;
  readonly required: boolean;             // default true: handshake fails without a valid client cert
}

export interface ReverseProxyRule {
  readonly alias: string;                 // alias name (resolved)
  readonly aliasRef: Alias;
  readonly port: number;
  readonly tls: boolean;                  // derived: port ∈ service.sslPorts, or explicit `tls: true`
  /** Server certificate name (resolved) for TLS ports; null for plain ports. */
  readonly serverCertificate: string | null;
  readonly serverCertificateRef: Certificate | null;
  readonly rules: readonly OutboundRule[]; // sorted by priority ascending
  readonly pos: SourcePos;
}

export interface OutboundRule {
  readonly priority: number;
  /** `*` = any; `*.example.com` = any subdomain; else exact (lower-case). */
  readonly host: string;
  readonly urlPrefix: string;             // default "/"
  readonly serverIp: string | null;       // exactly one of serverIp / serverHost is set
  readonly serverHost: string | null;
  readonly serverPort: number;
  readonly encrypt: boolean;              // default false
  readonly validateServerCertificate: boolean; // default true
  readonly caFile: string | null;
  readonly ca: string | null;
  /** TLS SNI / Host toward the server when encrypting; default serverHost ?? null. */
  readonly serverName: string | null;
  /**
   * Load balancing over several servers (docs/POOLS.md); null = the one server above. With a pool,
   * serverIp/serverPort mirror the pool's first server (for consumers that show a single address).
   */
  readonly pool: ServerPoolConfig | null;  // default null
  readonly pos: SourcePos;
}

// ---------------------------------------------------------------------------------------------
// Server pools and health checks (issue #6, docs/POOLS.md). Compiled by src/pools at load time.
// ---------------------------------------------------------------------------------------------

export type PoolAlgorithm = 'round-robin' | 'least-connections' | 'client-ip-hash';

export interface ServerPoolConfig {
  readonly algorithm: PoolAlgorithm;      // default round-robin (smooth weighted)
  /** Primaries first, then backups, each in declaration order. Alias mode: at least one primary. */
  readonly servers: readonly PoolMember[];
  /** Alias mode: cookie that pins a client to the server that answered it first; null = off. */
  readonly stickyCookie: string | null;   // default null
  readonly healthCheck: HealthCheckConfig | null; // default null = no active checks
  readonly passive: PassiveHealthConfig;
  readonly pos: SourcePos;
}

export interface PoolMember {
  /** IP literal. */
  readonly address: string;
  /** Bridge-mode pools: 0 (the default there) = the original destination's port. */
  readonly port: number;
  readonly weight: number;                // default 1 (1–1000)
  /** Used only while every primary is down. */
  readonly backup: boolean;               // default false
  readonly pos: SourcePos;
}

export interface HealthCheckConfig {
  /** Path (and query) requested on each server, e.g. /healthz. */
  readonly url: string;                   // default /
  readonly intervalMs: number;            // default 5000
  readonly timeoutMs: number;             // default 2000 (≤ intervalMs)
  /** Inclusive status range counted as healthy; YAML "200-399" or a single status. */
  readonly expectStatus: { readonly min: number; readonly max: number }; // default 200-399
  /** Consecutive successes that bring a down server back. */
  readonly rise: number;                  // default 2
  /** Consecutive failures that take an up server down. */
  readonly fall: number;                  // default 3
  /** Host header of the check; null = the server's address:port. */
  readonly host: string | null;           // default null
}

export interface PassiveHealthConfig {
  /** Consecutive connect failures or 5xx answers that take a server out; 0 = passive checks off. */
  readonly failures: number;              // default 3
  /** How long such a server gets no new requests. */
  readonly downForMs: number;             // default 10000
}

// ---------------------------------------------------------------------------------------------
// Policies (issue #3). Validated by the config loader; compiled by src/policy at load time.
// ---------------------------------------------------------------------------------------------

export interface Policies {
  readonly crs: CrsPolicy | null;         // null = CRS not loaded for this group
  readonly secLang: SecLangPolicy;        // extra SecLang, loaded after CRS
  readonly native: NativePolicies;
}

export interface CrsPolicy {
  readonly paranoiaLevel: 1 | 2 | 3 | 4;  // default 1
  readonly executingParanoiaLevel: 1 | 2 | 3 | 4 | null; // default null (= paranoiaLevel)
  readonly inboundAnomalyThreshold: number;  // default 5
  readonly outboundAnomalyThreshold: number; // default 4
  /** Overrides gateway.crs.rulesDir / setupFile for this group. */
  readonly rulesDir: string;
  readonly setupFile: string;
  /** Rule ids removed (SecRuleRemoveById) and tags removed (SecRuleRemoveByTag). */
  readonly removeRuleIds: readonly string[];      // "942100" or ranges "942100-942199"
  readonly removeRuleTags: readonly string[];
  /** Extra SecLang executed BEFORE the CRS rules (after crs-setup), e.g. exclusions with ctl. */
  readonly before: readonly string[];
  /** Extra TX variables set before CRS (e.g. { crs_validate_utf8_encoding: 1 }). */
  readonly setVars: Readonly<Record<string, string | number>>;
}

export interface SecLangPolicy {
  readonly files: readonly string[];      // absolute paths (globs allowed, resolved by the engine)
  readonly directives: string | null;     // inline SecLang text
}

export interface NativePolicies {
  readonly ipAllow: readonly string[];    // CIDRs; when non-empty, other clients are blocked
  readonly ipDeny: readonly string[];     // CIDRs
  readonly allowedMethods: readonly string[] | null; // null = any
  readonly maxUrlBytes: number | null;
  readonly maxHeaderBytes: number | null;
  readonly maxBodyBytes: number | null;
  readonly rateLimit: RateLimit | null;
  readonly rules: readonly CustomRule[];
}

export interface RateLimit {
  readonly requestsPerSecond: number;
  readonly burst: number;
  readonly action: 'block' | 'alert';     // default block
  readonly status: number;                // default 429
}

export interface CustomRule {
  readonly id: number;                    // appears in alerts
  readonly name: string;
  readonly action: 'block' | 'alert';
  readonly status: number;                // default 403
  readonly match: CustomMatch;
  readonly pos: SourcePos;
}

export interface CustomMatch {
  readonly method: StringMatch | null;
  readonly host: StringMatch | null;
  readonly path: StringMatch | null;
  readonly header: { readonly name: string; readonly value: StringMatch } | null;
  readonly argument: { readonly name: string; readonly value: StringMatch } | null;
}

export interface StringMatch {
  readonly kind: 'exact' | 'prefix' | 'regex';
  readonly value: string;
  readonly caseInsensitive: boolean;      // default false
}
