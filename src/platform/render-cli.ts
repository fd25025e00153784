/**
 * Prints the bridge interception for an operator, from a configuration file or from flags. Used by
 * iptables/bridge.sh and iptables/bypass.sh (through scripts/render-bridge-rules.mjs); the daemon
 * applies the same rendering itself through nft-apply.ts. Nothing here changes the system: it only
 * reads the bridge's MAC when none is given.
 *
 *   render-cli ruleset|teardown|script-up|script-down|elements|input [-c FILE] [flags]
 *
 *   ruleset      the `nft -f` text
 *   teardown     the `nft -f` text that removes both tables
 *   script-up    a bash script: sysctls (old values saved to $PORTCULLIS_SYSCTL_SAVE when set), MAC pin,
 *                policy routing, then the rule set in one transaction
 *   script-down  a bash script that removes all of it (and restores the saved sysctls)
 *   elements     `add element` commands re-filling the sets (bypass off without a full re-apply)
 *   input        the renderer input as JSON
 *   vars         TABLE=… MARK=… ROUTE_TABLE=… BRIDGE=… DESIGN=… lines for a shell `eval`
 *
 * Flags (override the configuration; without -c they are the whole input):
 *   --servers 10.20.0.10,fd00:20::10  --ports 80,443  --bridge br0  --bridge-ports ext0,int0
 *   --mac 02:..  --design B|A  --failure open|closed  --mark 0x1  --route-table 100  --table portcullis
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { GatewayConfig } from '../config/types.js';
import { bridgeRulesetInputFromConfig } from './bridge-ruleset-input.js';
import { readInterfaceMac } from './network-interfaces.js';
import {
  renderBridgeRuleset,
  renderRoutingCommands,
  renderRoutingTeardown,
  renderTeardown,
  type BridgeRulesetInput,
  type ProtectedEndpoint,
} from './nft-ruleset.js';
import { PlatformError } from './platform-errors.js';
import { ipFamily } from './socket-address.js';

const USAGE = `usage: render-cli ruleset|teardown|script-up|script-down|elements|input|vars [-c FILE]
  [--servers A,B] [--ports 80,443] [--bridge br0] [--bridge-ports ext0,int0] [--mac MAC]
  [--design B|A] [--failure open|closed] [--mark N] [--route-table N] [--table NAME]`;

class UsageError extends Error {}

function parseInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be an integer (0x… allowed), got '${text}'`);
  return n;
}

function list(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean);
}

async function loadConfig(file: string): Promise<GatewayConfig> {
  const { loadConfigFile, formatConfigError } = await import('../config/load.js');
  const r = loadConfigFile(file);
  if (!r.ok) throw new UsageError(`${file} is not a valid configuration:\n${r.errors.map((e) => `  ${formatConfigError(e)}`).join('\n')}`);
  return r.config;
}

const DEFAULTS = { design: 'B', failure: 'open', mark: 1, routeTable: 100, table: 'portcullis', bridge: 'br0', ports: ['ext0', 'int0'] } as const;

/** Commands whose output contains the bridge MAC; the others never read the bridge. */
const NEEDS_MAC = new Set(['ruleset', 'script-up']);

/** Builds the renderer input from -c and the flags; reads the bridge's MAC only when the command needs it. */
export async function inputFromArgs(argv: readonly string[]): Promise<{ command: string; input: BridgeRulesetInput }> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      servers: { type: 'string' },
      ports: { type: 'string' },
      bridge: { type: 'string' },
      'bridge-ports': { type: 'string' },
      mac: { type: 'string' },
      design: { type: 'string' },
      failure: { type: 'string' },
      mark: { type: 'string' },
      'route-table': { type: 'string' },
      table: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) throw new UsageError(USAGE);
  const command = positionals[0]!;

  let base: BridgeRulesetInput;
  if (values.config) {
    // '' = not pinned in the configuration: read the bridge's current MAC below
    base = bridgeRulesetInputFromConfig(await loadConfig(values.config), '');
  } else {
    if (!values.servers || !values.ports) {
      if (!['teardown', 'script-down', 'vars'].includes(command)) throw new UsageError(`without -c, --servers and --ports are required\n${USAGE}`);
    }
    base = {
      design: DEFAULTS.design,
      table: DEFAULTS.table,
      mark: DEFAULTS.mark,
      routeTable: DEFAULTS.routeTable,
      bridge: DEFAULTS.bridge,
      bridgeMac: '',
      ports: DEFAULTS.ports,
      protectedV4: [],
      protectedV6: [],
      tcpPorts: [],
      failure: DEFAULTS.failure,
    };
  }
  const servers = list(values.servers);
  const ports = list(values.ports)?.map((p) => parseInteger(p, '--ports'));
  let endpoints: ProtectedEndpoint[] | undefined;
  if (servers || ports) {
    // flags replace the configuration's endpoints: every server × every port
    const addrs = servers ?? [...new Set((base.endpoints ?? []).map((e) => e.address))];
    const prts = ports ?? [...new Set((base.endpoints ?? []).map((e) => e.port))];
    for (const a of addrs) if (ipFamily(a) === null) throw new UsageError(`--servers: '${a}' is not an IPv4 or IPv6 address`);
    endpoints = addrs.flatMap((address) => prts.map((port) => ({ address, port })));
  }
  const input: BridgeRulesetInput = {
    ...base,
    ...(endpoints ? { endpoints } : {}),
    ...(values.bridge ? { bridge: values.bridge } : {}),
    ...(values['bridge-ports'] !== undefined ? { ports: list(values['bridge-ports']) ?? [] } : {}),
    ...(values.design ? { design: values.design as 'A' | 'B' } : {}),
    ...(values.failure ? { failure: values.failure as 'open' | 'closed' } : {}),
    ...(values.mark ? { mark: parseInteger(values.mark, '--mark') } : {}),
    ...(values['route-table'] ? { routeTable: parseInteger(values['route-table'], '--route-table') } : {}),
    ...(values.table ? { table: values.table } : {}),
    ...(values.mac ? { bridgeMac: values.mac } : {}),
  };
  if (NEEDS_MAC.has(command) && input.bridgeMac === '') return { command, input: { ...input, bridgeMac: await readInterfaceMac(input.bridge) } };
  return { command, input };
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const HEREDOC = 'PORTCULLIS_NFT_EOF';

export function renderUpScript(input: BridgeRulesetInput): string {
  const ruleset = renderBridgeRuleset(input);
  const routing = renderRoutingCommands(input);
  const lines = [
    '#!/bin/bash',
    `# Portcullis bridge interception up: design ${input.design}, table ${input.table}, bridge ${input.bridge}.`,
    '# Generated by src/platform/render-cli.ts; re-generate rather than editing or saving `nft list` output.',
    'set -euo pipefail',
    '# keep the values found before the first `up`, so `down` can restore them',
    'if [ -n "${PORTCULLIS_SYSCTL_SAVE:-}" ] && [ ! -e "$PORTCULLIS_SYSCTL_SAVE" ]; then',
    '  mkdir -p "$(dirname "$PORTCULLIS_SYSCTL_SAVE")"',
    `  { ${routing.sysctls.map((s) => `echo "${s.key}=$(sysctl -n ${s.key})";`).join(' ')} } > "$PORTCULLIS_SYSCTL_SAVE"`,
    'fi',
    ...routing.sysctls.map((s) => `sysctl -qw ${shellQuote(`${s.key}=${s.value}`)}`),
    '# remove earlier policy routing of this mark/table first, so re-running never duplicates ip rules',
    ...routing.down.map((argv) => downLine(argv)),
    ...routing.up.map((argv) => argv.map(shellQuote).join(' ')),
    '# the rule set, as one atomic transaction (it replaces any previous generation)',
    `nft -f - <<'${HEREDOC}'`,
    ruleset.trimEnd(),
    HEREDOC,
    `echo "portcullis: bridge interception installed (design ${input.design}, failure ${input.failure}, table ${input.table})"`,
    '',
  ];
  return lines.join('\n');
}

function downLine(argv: readonly string[]): string {
  const cmd = argv.map(shellQuote).join(' ');
  return argv.includes('rule') ? `while ${cmd} 2>/dev/null; do :; done` : `${cmd} 2>/dev/null || true`;
}

export function renderDownScript(target: Pick<BridgeRulesetInput, 'table' | 'mark' | 'routeTable'>): string {
  return [
    '#!/bin/bash',
    `# Portcullis bridge interception down: table ${target.table}, mark ${target.mark}, route table ${target.routeTable}.`,
    'set -uo pipefail',
    `nft -f - <<'${HEREDOC}'`,
    renderTeardown(target.table).trimEnd(),
    HEREDOC,
    ...renderRoutingTeardown(target).map((argv) => downLine(argv)),
    'if [ -n "${PORTCULLIS_SYSCTL_SAVE:-}" ] && [ -e "$PORTCULLIS_SYSCTL_SAVE" ]; then',
    '  sysctl -q -p "$PORTCULLIS_SYSCTL_SAVE" && rm -f "$PORTCULLIS_SYSCTL_SAVE"',
    'fi',
    'echo "portcullis: bridge interception removed"',
    '',
  ].join('\n');
}

/** `add element` commands for every set element of `input` (bypass off). */
export function renderElements(input: BridgeRulesetInput): string {
  // the MAC plays no part in the elements; a placeholder spares reading the bridge
  const text = renderBridgeRuleset({ ...input, bridgeMac: input.bridgeMac || '02:00:00:00:00:00' });
  const families = input.design === 'A' ? ['bridge', 'inet'] : ['inet'];
  const out: string[] = [];
  for (const set of ['protected_v4', 'protected_v6']) {
    const m = new RegExp(`set ${set} \\{[^}]*?elements = \\{ ([^}]*) \\}`, 's').exec(text);
    if (!m) continue;
    const elements = m[1]!.split(/,\s*/).map((e) => e.trim());
    for (const f of families) out.push(`add element ${f} ${input.table} ${set} { ${elements.join(', ')} }`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { command, input } = await inputFromArgs(argv);
    switch (command) {
      case 'ruleset':
        process.stdout.write(renderBridgeRuleset(input));
        return 0;
      case 'teardown':
        process.stdout.write(renderTeardown(input.table));
        return 0;
      case 'script-up':
        process.stdout.write(renderUpScript(input));
        return 0;
      case 'script-down':
        process.stdout.write(renderDownScript(input));
        return 0;
      case 'elements':
        process.stdout.write(renderElements(input));
        return 0;
      case 'vars':
        process.stdout.write(
          `TABLE=${input.table}\nMARK=0x${input.mark.toString(16)}\nROUTE_TABLE=${input.routeTable}\nBRIDGE=${input.bridge}\nDESIGN=${input.design}\n`,
        );
        return 0;
      case 'input':
        process.stdout.write(`${JSON.stringify(input, null, 2)}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof PlatformError) {
      process.stderr.write(`render-cli: ${err.message}\n`);
      return 2;
    }
    if (err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`render-cli: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
