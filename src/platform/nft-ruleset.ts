/**
 * Pure renderers of the bridge-mode interception rules (nft -f text) and of the policy-routing commands
 * that go with them. Nothing here touches the system: src/platform/nft-apply.ts runs the output, and
 * iptables/bridge.sh prints it for an operator. The renderer is the single source of truth for the rules:
 * `nft list ruleset` output is lossy for some statements (see docs/BRIDGE.md), so never save a listing
 * and reload it; re-render instead.
 *
 * Design B (default, fail-open; ../shared/design/bridge-lab-findings.md §4):
 *  - br_netfilter stays on (bridge-nf-call-iptables=1), so bridged IPv4/IPv6 frames run the inet
 *    prerouting hook. There, for packets to or from a protected address.port only:
 *      * a SYN whose `socket` lookup finds a transparent socket (the daemon's listener on the original
 *        port) gets the mark: intercept this new connection;
 *      * other packets whose lookup finds only the wildcard listener are NOT ours (the flow existed before
 *        the daemon started): they stay bridged (`socket wildcard 1 accept`);
 *      * packets of gateway-owned transparent sockets (request socks, established, time-wait; both
 *        directions, i.e. also the server's replies to client-IP-sourced upstream sockets) get the mark.
 *  - a bridge prerouting chain at priority +100, i.e. AFTER br_netfilter (priority 0) has run the inet
 *    hooks, rewrites marked frames to br0's MAC with pkttype host, so the bridge passes them up to the
 *    local stack (both rewrites are needed). Policy routing (fwmark → table with `local default dev lo`)
 *    delivers them locally.
 *  - daemon down → no transparent socket → nothing marked → everything bridged (fail-open). With
 *    `failure: closed`, protected SYNs that find no transparent listener are dropped instead.
 * Design A (optional, fails closed; §3): bridge chain at priority -300 hands protected frames up, inet
 * prerouting TPROXYs them to daemon ports; needs bridge-nf-call-iptables=0.
 *
 * Protected endpoints are concatenated `address . port` set elements, so server groups with different
 * ports never intercept each other's ports.
 */
import { PlatformError } from './platform-errors.js';
import { ipFamily, ipv6Bytes } from './socket-address.js';

export interface ProtectedEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface BridgeRulesetInput {
  readonly design: 'B' | 'A';
  /** nft table name, used for both the `inet` and the `bridge` table. */
  readonly table: string;
  /** Policy-routing fwmark (non-zero). */
  readonly mark: number;
  /** Routing table holding `local default dev lo` (not 0, 253, 254, 255). */
  readonly routeTable: number;
  readonly bridge: string;
  /** br0's MAC; it is also pinned on the bridge so port changes cannot move it. */
  readonly bridgeMac: string;
  /** Bridge ports; when non-empty, only frames entering through them are handed up. */
  readonly ports: readonly string[];
  /** Protected addresses, each combined with every port of `tcpPorts`. */
  readonly protectedV4: readonly string[];
  readonly protectedV6: readonly string[];
  readonly tcpPorts: readonly number[];
  readonly failure: 'open' | 'closed';
  /** Exact address:port endpoints, in addition to the cross product above (what the config yields). */
  readonly endpoints?: readonly ProtectedEndpoint[];
  /** Design A only: the daemon's TPROXY port per protected port. Default port + 15000. */
  readonly tproxyPorts?: Readonly<Record<number, number>>;
}

/** The validated, normalised form every renderer works on. */
interface NormalisedInput {
  readonly design: 'B' | 'A';
  readonly table: string;
  readonly markHex: string;
  readonly routeTable: number;
  readonly bridge: string;
  readonly bridgeMac: string;
  readonly ports: readonly string[];
  readonly failure: 'open' | 'closed';
  /** Rendered set elements (`10.20.0.10 . 80`), sorted, unique. */
  readonly v4: readonly string[];
  readonly v6: readonly string[];
  /** Sorted unique protected ports (design A renders one TPROXY rule per port). */
  readonly tcpPorts: readonly number[];
  readonly tproxy: ReadonlyMap<number, number>;
}

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
const IFNAME = /^[A-Za-z0-9_.:-]{1,15}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const RESERVED_ROUTE_TABLES = new Set([0, 253, 254, 255]);

function inputError(message: string): PlatformError {
  return new PlatformError('ERR_RULESET_INPUT', message);
}

function checkPortNumber(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw inputError(`${what} must be an integer 1..65535, got ${String(port)}`);
}

function compareV4(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

function compareV6(a: string, b: string): number {
  return Buffer.compare(ipv6Bytes(a), ipv6Bytes(b));
}

/** Canonical text of an IPv6 literal (lower-case, longest zero run compressed), so sets compare equal. */
function canonicalV6(address: string): string {
  const bytes = ipv6Bytes(address);
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(i * 2).toString(16));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

function normalise(input: BridgeRulesetInput): NormalisedInput {
  if (input.design !== 'A' && input.design !== 'B') throw inputError(`design must be 'B' or 'A', got '${String(input.design)}'`);
  if (!TABLE_NAME.test(input.table)) throw inputError(`table must match ${TABLE_NAME.source}, got '${input.table}'`);
  if (!Number.isInteger(input.mark) || input.mark < 1 || input.mark > 0xffffffff) {
    throw inputError(`mark must be an integer 1..0xffffffff, got ${String(input.mark)}`);
  }
  if (!Number.isInteger(input.routeTable) || input.routeTable < 1 || input.routeTable > 0xffffffff || RESERVED_ROUTE_TABLES.has(input.routeTable)) {
    throw inputError(`routeTable must be an integer 1..4294967295 other than 253 (default), 254 (main), 255 (local); got ${String(input.routeTable)}`);
  }
  if (!IFNAME.test(input.bridge)) throw inputError(`bridge must be an interface name (1-15 of A-Z a-z 0-9 _ . : -), got '${input.bridge}'`);
  for (const p of input.ports) if (!IFNAME.test(p)) throw inputError(`bridge port must be an interface name, got '${p}'`);
  const mac = input.bridgeMac.toLowerCase();
  if (!MAC.test(mac)) throw inputError(`bridgeMac must look like 02:00:00:00:00:01, got '${input.bridgeMac}'`);
  if (input.failure !== 'open' && input.failure !== 'closed') throw inputError(`failure must be 'open' or 'closed', got '${String(input.failure)}'`);
  if (input.design === 'A' && input.failure === 'open') {
    throw inputError("design A fails closed by construction (protected flows are black-holed while no daemon listens); set failure: closed or use design B");
  }

  const endpoints: ProtectedEndpoint[] = [...(input.endpoints ?? [])];
  for (const port of input.tcpPorts) checkPortNumber(port, 'tcpPorts entry');
  for (const address of input.protectedV4) {
    if (ipFamily(address) !== 4) throw inputError(`protectedV4 entry must be an IPv4 literal, got '${address}'`);
    for (const port of input.tcpPorts) endpoints.push({ address, port });
  }
  for (const address of input.protectedV6) {
    if (ipFamily(address) !== 6) throw inputError(`protectedV6 entry must be an IPv6 literal, got '${address}'`);
    for (const port of input.tcpPorts) endpoints.push({ address, port });
  }
  const v4 = new Map<string, ProtectedEndpoint>();
  const v6 = new Map<string, ProtectedEndpoint>();
  for (const e of endpoints) {
    checkPortNumber(e.port, `port of endpoint ${e.address}`);
    const family = ipFamily(e.address);
    if (family === 4) v4.set(`${e.address} . ${e.port}`, e);
    else if (family === 6) {
      const address = canonicalV6(e.address);
      v6.set(`${address} . ${e.port}`, { address, port: e.port });
    } else throw inputError(`endpoint address must be an IPv4 or IPv6 literal, got '${e.address}'`);
  }
  const byV4 = (a: ProtectedEndpoint, b: ProtectedEndpoint): number => compareV4(a.address, b.address) || a.port - b.port;
  const byV6 = (a: ProtectedEndpoint, b: ProtectedEndpoint): number => compareV6(a.address, b.address) || a.port - b.port;
  const allPorts = [...new Set(endpoints.map((e) => e.port))].sort((a, b) => a - b);

  const tproxy = new Map<number, number>();
  if (input.design === 'A') {
    for (const port of allPorts) {
      const target = input.tproxyPorts?.[port] ?? port + 15000;
      if (!Number.isInteger(target) || target < 1 || target > 65535) {
        throw inputError(`design A needs a TPROXY port for protected port ${port} (default ${port} + 15000 is out of range); set tproxyPorts`);
      }
      tproxy.set(port, target);
    }
  }
  return {
    design: input.design,
    table: input.table,
    markHex: `0x${input.mark.toString(16).padStart(8, '0')}`,
    routeTable: input.routeTable,
    bridge: input.bridge,
    bridgeMac: mac,
    ports: [...input.ports],
    failure: input.failure,
    v4: [...v4.values()].sort(byV4).map((e) => `${e.address} . ${e.port}`),
    v6: [...v6.values()].sort(byV6).map((e) => `${e.address} . ${e.port}`),
    tcpPorts: allPorts,
    tproxy,
  };
}

function setBlock(name: string, type: string, elements: readonly string[]): string[] {
  const lines = [`  set ${name} {`, `    type ${type}`];
  if (elements.length > 0) lines.push(`    elements = { ${elements.join(',\n                 ')} }`);
  lines.push('  }');
  return lines;
}

function ifnameMatch(n: NormalisedInput): string {
  if (n.ports.length === 0) return '';
  return `iifname { ${n.ports.map((p) => `"${p}"`).join(', ')} } `;
}

const SYN_ONLY = 'tcp flags & (syn | ack) == syn';

function familiesOf(n: NormalisedInput): Array<{ ip: 'ip' | 'ip6'; set: string }> {
  const out: Array<{ ip: 'ip' | 'ip6'; set: string }> = [{ ip: 'ip', set: 'protected_v4' }];
  if (n.v6.length > 0) out.push({ ip: 'ip6', set: 'protected_v6' });
  return out;
}

function protectedSets(n: NormalisedInput): string[] {
  const lines = setBlock('protected_v4', 'ipv4_addr . inet_service', n.v4);
  if (n.v6.length > 0) lines.push(...setBlock('protected_v6', 'ipv6_addr . inet_service', n.v6));
  return lines;
}

/** Replaces any previous generation in the same transaction, so an apply is atomic and repeatable. */
function replaceTables(table: string): string[] {
  return [`table inet ${table}`, `delete table inet ${table}`, `table bridge ${table}`, `delete table bridge ${table}`];
}

function renderDesignB(n: NormalisedInput): string[] {
  const pre: string[] = [];
  for (const { ip, set } of familiesOf(n)) {
    pre.push(
      `    ${ip} daddr . tcp dport @${set} ${SYN_ONLY} socket transparent 1 counter meta mark set ${n.markHex} accept comment "new connection and the daemon listens: intercept"`,
    );
    if (n.failure === 'closed') {
      pre.push(`    ${ip} daddr . tcp dport @${set} ${SYN_ONLY} counter drop comment "failure closed: no transparent listener"`);
    }
    pre.push(`    ${ip} daddr . tcp dport @${set} jump owned comment "client to server"`);
    pre.push(`    ${ip} saddr . tcp sport @${set} jump owned comment "server to client, also replies to client-IP-sourced upstream sockets"`);
  }
  return [
    `table inet ${n.table} {`,
    ...protectedSets(n),
    '',
    '  chain prerouting {',
    '    type filter hook prerouting priority mangle; policy accept;',
    ...pre,
    '  }',
    '',
    '  chain owned {',
    '    socket transparent 1 socket wildcard 1 counter accept comment "only the wildcard listener matched: a flow older than the daemon, keep bridging"',
    `    socket transparent 1 counter meta mark set ${n.markHex} accept comment "gateway-owned socket (request, established, time-wait)"`,
    '  }',
    '}',
    '',
    `table bridge ${n.table} {`,
    '  chain prerouting {',
    '    type filter hook prerouting priority 100; policy accept;',
    `    meta mark ${n.markHex} ${ifnameMatch(n)}counter ether daddr set ${n.bridgeMac} meta pkttype set host comment "after br_netfilter: hand marked frames to the local stack"`,
    '  }',
    '}',
  ];
}

function renderDesignA(n: NormalisedInput): string[] {
  const l2: string[] = [];
  const l3: string[] = [
    `    meta l4proto tcp socket transparent 1 counter meta mark set ${n.markHex} accept comment "packets of gateway-owned transparent sockets"`,
  ];
  for (const { ip, set } of familiesOf(n)) {
    l2.push(
      `    ${ip} daddr . tcp dport @${set} ${ifnameMatch(n)}counter ether daddr set ${n.bridgeMac} meta pkttype set host comment "client to server: hand to the local stack"`,
    );
    l2.push(
      `    ${ip} saddr . tcp sport @${set} ${ifnameMatch(n)}counter ether daddr set ${n.bridgeMac} meta pkttype set host comment "server replies to client-IP-sourced upstream sockets"`,
    );
    // one rule per port on purpose: a `tproxy to : tcp dport map @m` rule works, but nft 1.0.6 lists it
    // without the port, so that listing would not reload
    for (const [port, target] of n.tproxy) {
      l3.push(
        `    ${ip} daddr . tcp dport @${set} tcp dport ${port} counter tproxy ${ip} to :${target} meta mark set ${n.markHex} accept comment "to the daemon's port ${target}"`,
      );
    }
  }
  return [
    `table bridge ${n.table} {`,
    ...protectedSets(n),
    '',
    '  chain prerouting {',
    '    type filter hook prerouting priority -300; policy accept;',
    ...l2,
    '  }',
    '}',
    '',
    `table inet ${n.table} {`,
    ...protectedSets(n),
    '',
    '  chain prerouting {',
    '    type filter hook prerouting priority mangle; policy accept;',
    ...l3,
    '  }',
    '}',
  ];
}

/**
 * The complete rule set as `nft -f` text. It first deletes the previous generation of both tables in
 * the same transaction, so applying it is atomic: no packet ever sees a half-installed rule set.
 * @throws PlatformError ERR_RULESET_INPUT
 */
export function renderBridgeRuleset(input: BridgeRulesetInput): string {
  const n = normalise(input);
  const header = [
    `# Portcullis bridge interception, design ${n.design}, failure ${n.failure}.`,
    '# Generated by src/platform/nft-ruleset.ts; re-render instead of saving `nft list` output (lossy).',
  ];
  const body = n.design === 'B' ? renderDesignB(n) : renderDesignA(n);
  return [...header, ...replaceTables(n.table), '', ...body, ''].join('\n');
}

/** Removes both tables; succeeds (as one transaction) whether or not they exist. */
export function renderTeardown(table: string): string {
  if (!TABLE_NAME.test(table)) throw inputError(`table must match ${TABLE_NAME.source}, got '${table}'`);
  return [...replaceTables(table), ''].join('\n');
}

/** Everything except the set elements: when it changes, the rule set must be re-applied in full. */
function shapeOf(n: NormalisedInput): string {
  return JSON.stringify({
    design: n.design,
    table: n.table,
    mark: n.markHex,
    routeTable: n.routeTable,
    bridge: n.bridge,
    mac: n.bridgeMac,
    ports: n.ports,
    failure: n.failure,
    v6: n.v6.length > 0,
    tproxy: n.design === 'A' ? [...n.tproxy] : [],
  });
}

/**
 * The `nft -f` commands that turn the sets of `previous` into those of `next` without touching the
 * chains, so established (intercepted and bridged) flows are not disturbed by a reload. Returns '' when
 * nothing changes, and null when the change is structural (design, table, mark, MAC, ports, failure
 * mode, IPv6 appearing or disappearing, design A port list): re-apply `renderBridgeRuleset(next)` then,
 * which is atomic as well.
 */
export function renderSetUpdate(previous: BridgeRulesetInput, next: BridgeRulesetInput): string | null {
  const a = normalise(previous);
  const b = normalise(next);
  if (shapeOf(a) !== shapeOf(b)) return null;
  const families = b.design === 'A' ? ['bridge', 'inet'] : ['inet'];
  const lines: string[] = [];
  const diff = (set: string, before: readonly string[], after: readonly string[]): void => {
    const removed = before.filter((e) => !after.includes(e));
    const added = after.filter((e) => !before.includes(e));
    for (const family of families) {
      if (removed.length > 0) lines.push(`delete element ${family} ${b.table} ${set} { ${removed.join(', ')} }`);
      if (added.length > 0) lines.push(`add element ${family} ${b.table} ${set} { ${added.join(', ')} }`);
    }
  };
  diff('protected_v4', a.v4, b.v4);
  if (b.v6.length > 0) diff('protected_v6', a.v6, b.v6);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export interface SysctlSetting {
  readonly key: string;
  readonly value: string;
}

export interface RoutingCommands {
  /** Kernel settings the design needs; nft-apply records the old values so removal can restore them. */
  readonly sysctls: readonly SysctlSetting[];
  /** argv lists run in order after the sysctls, each must succeed. */
  readonly up: readonly (readonly string[])[];
  /**
   * argv lists that undo `up`; each may fail (already gone). Every `ip rule del` is repeated until it
   * fails, so duplicates left by an interrupted run go too. Covers IPv6 even when the input has none,
   * so removal also cleans up after a previous IPv6 configuration.
   */
  readonly down: readonly (readonly string[])[];
}

/**
 * Policy routing, sysctls and the MAC pin for the rule set of `input` (pure; the argv lists are run by
 * nft-apply.ts or printed by iptables/bridge.sh).
 */
export function renderRoutingCommands(input: BridgeRulesetInput): RoutingCommands {
  const n = normalise(input);
  const table = String(n.routeTable);
  const hasV6 = n.v6.length > 0;
  const sysctls: SysctlSetting[] = [];
  if (n.design === 'B') {
    // br_netfilter must hand bridged frames to the inet hooks: that is where the socket lookup runs
    sysctls.push({ key: 'net.bridge.bridge-nf-call-iptables', value: '1' });
    if (hasV6) sysctls.push({ key: 'net.bridge.bridge-nf-call-ip6tables', value: '1' });
  } else {
    // with br_netfilter on, the socket that TPROXY assigns is lost on the way up (findings §2)
    sysctls.push({ key: 'net.bridge.bridge-nf-call-iptables', value: '0' });
    sysctls.push({ key: 'net.bridge.bridge-nf-call-ip6tables', value: '0' });
  }
  // strict reverse-path filtering drops handed-up packets unless routes back through br0 exist
  sysctls.push({ key: 'net.ipv4.conf.all.rp_filter', value: '0' });
  sysctls.push({ key: `net.ipv4.conf.${n.bridge}.rp_filter`, value: '0' });

  const up: string[][] = [['ip', 'link', 'set', 'dev', n.bridge, 'address', n.bridgeMac]];
  if (n.design === 'A') up.push(['ip', 'link', 'set', 'dev', n.bridge, 'type', 'bridge', 'nf_call_iptables', '0', 'nf_call_ip6tables', '0']);
  up.push(['ip', '-4', 'rule', 'add', 'fwmark', n.markHex, 'lookup', table]);
  up.push(['ip', '-4', 'route', 'replace', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', table]);
  if (hasV6) {
    up.push(['ip', '-6', 'rule', 'add', 'fwmark', n.markHex, 'lookup', table]);
    up.push(['ip', '-6', 'route', 'replace', 'local', '::/0', 'dev', 'lo', 'table', table]);
  }
  return { sysctls, up, down: renderRoutingTeardown({ mark: input.mark, routeTable: input.routeTable }) };
}

/**
 * The argv lists that remove the policy routing of a mark/table pair (IPv4 and IPv6), whatever was
 * applied before. Each may fail when already gone; run every `ip rule del` until it fails.
 */
export function renderRoutingTeardown(input: { readonly mark: number; readonly routeTable: number }): string[][] {
  if (!Number.isInteger(input.mark) || input.mark < 1 || input.mark > 0xffffffff) {
    throw inputError(`mark must be an integer 1..0xffffffff, got ${String(input.mark)}`);
  }
  if (!Number.isInteger(input.routeTable) || input.routeTable < 1 || RESERVED_ROUTE_TABLES.has(input.routeTable)) {
    throw inputError(`routeTable must be an integer other than 0, 253, 254, 255; got ${String(input.routeTable)}`);
  }
  const mark = `0x${input.mark.toString(16).padStart(8, '0')}`;
  const table = String(input.routeTable);
  return [
    ['ip', '-4', 'rule', 'del', 'fwmark', mark, 'lookup', table],
    ['ip', '-4', 'route', 'del', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', table],
    ['ip', '-6', 'rule', 'del', 'fwmark', mark, 'lookup', table],
    ['ip', '-6', 'route', 'del', 'local', '::/0', 'dev', 'lo', 'table', table],
  ];
}
