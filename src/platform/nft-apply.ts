/**
 * Applies and removes the bridge interception (rule set, policy routing, sysctls, MAC pin) rendered by
 * nft-ruleset.ts. The rule set goes in with one `nft -f -` transaction, so it is atomic; routing is put
 * in place BEFORE the rules, so no marked packet ever arrives without its route. Removal is idempotent
 * and leaves nothing behind (both nft tables, every duplicate ip rule, the local routes).
 */
import {
  renderBridgeRuleset,
  renderRoutingCommands,
  renderRoutingTeardown,
  renderSetUpdate,
  renderTeardown,
  type BridgeRulesetInput,
  type SysctlSetting,
} from './nft-ruleset.js';
import { PlatformError } from './platform-errors.js';
import { describeFailure, runCommand, type CommandOptions, type CommandResult } from './system-command.js';

export interface NftApplyOptions {
  /** Apply inside this network namespace (the lab's gateway); absent = this one. */
  readonly netns?: string;
}

export interface AppliedBridgeRules {
  readonly input: BridgeRulesetInput;
  /** The sysctl values found before apply, for `removeBridgeRules(…, { restoreSysctls })`. */
  readonly previousSysctls: readonly SysctlSetting[];
}

function scope(opts: NftApplyOptions): Pick<CommandOptions, 'netns'> {
  return opts.netns ? { netns: opts.netns } : {};
}

async function mustRun(argv: readonly string[], opts: NftApplyOptions, input?: string): Promise<CommandResult> {
  const r = await runCommand(argv, { ...scope(opts), ...(input === undefined ? {} : { input }) });
  if (r.status !== 0) throw new PlatformError('ERR_NFT_APPLY', describeFailure(r), { syscall: argv.join(' ') });
  return r;
}

/** Loads an `nft -f` text as one transaction. */
export async function runNft(text: string, opts: NftApplyOptions = {}): Promise<void> {
  await mustRun(['nft', '-f', '-'], opts, text);
}

async function readSysctl(key: string, opts: NftApplyOptions): Promise<string> {
  const r = await runCommand(['sysctl', '-n', key], scope(opts));
  if (r.status !== 0) {
    const hint = key.startsWith('net.bridge.') ? ' (is br_netfilter loaded? `modprobe br_netfilter`)' : '';
    throw new PlatformError('ERR_NFT_APPLY', `${describeFailure(r)}${hint}`, { syscall: `sysctl ${key}` });
  }
  return r.stdout.trim();
}

async function writeSysctls(settings: readonly SysctlSetting[], opts: NftApplyOptions): Promise<void> {
  for (const s of settings) await mustRun(['sysctl', '-qw', `${s.key}=${s.value}`], opts);
}

/** Runs a removal command; `ip rule del` repeats until it fails so duplicates go too. */
async function runRemoval(argv: readonly string[], opts: NftApplyOptions): Promise<void> {
  const repeat = argv.includes('rule');
  for (let i = 0; i < (repeat ? 64 : 1); i++) {
    const r = await runCommand(argv, scope(opts));
    if (r.status !== 0) return;
  }
}

/**
 * Installs everything `input` needs: sysctls, MAC pin and policy routing first, then the rule set in one
 * transaction. Re-applying replaces the previous generation atomically. On failure it removes what it
 * installed and throws.
 * @throws PlatformError ERR_RULESET_INPUT (bad input, nothing touched) | ERR_NFT_APPLY
 */
export async function applyBridgeRules(input: BridgeRulesetInput, opts: NftApplyOptions = {}): Promise<AppliedBridgeRules> {
  const ruleset = renderBridgeRuleset(input); // validates before anything is touched
  const routing = renderRoutingCommands(input);
  const previousSysctls: SysctlSetting[] = [];
  for (const s of routing.sysctls) previousSysctls.push({ key: s.key, value: await readSysctl(s.key, opts) });
  try {
    await writeSysctls(routing.sysctls, opts);
    for (const argv of routing.down) await runRemoval(argv, opts); // no duplicate ip rules on re-apply
    for (const argv of routing.up) await mustRun(argv, opts);
    await runNft(ruleset, opts);
  } catch (err) {
    await removeBridgeRules(input, { ...opts, restoreSysctls: previousSysctls }).catch(() => undefined);
    throw err;
  }
  return { input, previousSysctls };
}

export type SetUpdateOutcome = 'unchanged' | 'updated' | 'reapplied';

/**
 * Reload: changes only set elements when the rule shape is the same (established flows are not
 * touched at all), else re-applies the whole rule set (atomic as well).
 */
export async function updateBridgeRules(
  previous: BridgeRulesetInput,
  next: BridgeRulesetInput,
  opts: NftApplyOptions = {},
): Promise<SetUpdateOutcome> {
  const update = renderSetUpdate(previous, next);
  if (update === '') return 'unchanged';
  if (update !== null) {
    await runNft(update, opts);
    return 'updated';
  }
  if (previous.mark !== next.mark || previous.routeTable !== next.routeTable || previous.table !== next.table) {
    await removeBridgeRules(previous, opts);
  }
  await applyBridgeRules(next, opts);
  return 'reapplied';
}

export interface RemoveOptions extends NftApplyOptions {
  /** Put these sysctl values back (from `AppliedBridgeRules.previousSysctls`). */
  readonly restoreSysctls?: readonly SysctlSetting[];
}

/**
 * Removes the rule set (both tables) and the policy routing of `{table, mark, routeTable}`. Idempotent:
 * running it when nothing is installed succeeds. Rules go first, so nothing is marked once routing goes.
 * @throws PlatformError ERR_NFT_APPLY when a table could not be deleted
 */
export async function removeBridgeRules(
  target: Pick<BridgeRulesetInput, 'table' | 'mark' | 'routeTable'>,
  opts: RemoveOptions = {},
): Promise<void> {
  await runNft(renderTeardown(target.table), opts);
  for (const argv of renderRoutingTeardown(target)) await runRemoval(argv, opts);
  if (opts.restoreSysctls) {
    for (const s of opts.restoreSysctls) {
      await runCommand(['sysctl', '-qw', `${s.key}=${s.value}`], scope(opts));
    }
  }
}

export interface InstalledState {
  readonly tables: readonly string[];
  readonly ipRules: readonly string[];
  readonly routes: readonly string[];
}

/**
 * What of `{table, mark, routeTable}` is installed: nft tables (`inet NAME`, `bridge NAME`), ip rules
 * with the mark, routes in the table (both families). Empty everywhere = nothing left behind.
 */
export async function inspectBridgeRules(
  target: Pick<BridgeRulesetInput, 'table' | 'mark' | 'routeTable'>,
  opts: NftApplyOptions = {},
): Promise<InstalledState> {
  const tables = (await mustRun(['nft', 'list', 'tables'], opts)).stdout
    .split('\n')
    .map((l) => l.trim().replace(/^table /, ''))
    .filter((t) => t === `inet ${target.table}` || t === `bridge ${target.table}`);
  const markHex = `0x${target.mark.toString(16)}`;
  const ipRules: string[] = [];
  const routes: string[] = [];
  for (const family of ['-4', '-6']) {
    const rules = (await mustRun(['ip', family, 'rule', 'show'], opts)).stdout.split('\n');
    ipRules.push(...rules.filter((l) => new RegExp(`fwmark ${markHex}\\b`).test(l) || new RegExp(`lookup ${target.routeTable}\\b`).test(l)));
    const r = await runCommand(['ip', family, 'route', 'show', 'table', String(target.routeTable)], scope(opts));
    if (r.status === 0) routes.push(...r.stdout.split('\n').filter((l) => l.trim() !== ''));
  }
  return { tables, ipRules, routes };
}

/** The live rule set with counters (for `status`). */
export async function listBridgeRules(table: string, opts: NftApplyOptions = {}): Promise<string> {
  let out = '';
  for (const family of ['inet', 'bridge']) {
    const r = await runCommand(['nft', 'list', 'table', family, table], scope(opts));
    if (r.status === 0) out += r.stdout;
  }
  return out;
}
