/**
 * The bridge-mode data plane's lifecycle in one object, for the daemon: start (capability check, read
 * and pin the bridge MAC, apply the rules), reload (set elements only, when possible), stop (remove
 * everything, restore the sysctls it changed). The transparent listeners themselves belong to the
 * daemon's listener registry (ListenerSpec.transparent → openTransparentListener).
 */
import type { GatewayConfig } from '../config/types.js';
import { assertBridgeCapabilities } from './capabilities.js';
import { bridgeRulesetInputFromConfig, protectedPorts } from './bridge-ruleset-input.js';
import { readInterfaceMac } from './network-interfaces.js';
import {
  applyBridgeRules,
  removeBridgeRules,
  updateBridgeRules,
  type AppliedBridgeRules,
  type NftApplyOptions,
  type SetUpdateOutcome,
} from './nft-apply.js';
import type { BridgeRulesetInput } from './nft-ruleset.js';

export interface BridgeInterceptionOptions extends NftApplyOptions {
  /** Skip the up-front capability check (tests that run as root in a namespace do not need it). */
  readonly skipCapabilityCheck?: boolean;
}

export class BridgeInterception {
  private applied: AppliedBridgeRules;
  private readonly opts: BridgeInterceptionOptions;
  private stopped = false;

  private constructor(applied: AppliedBridgeRules, opts: BridgeInterceptionOptions) {
    this.applied = applied;
    this.opts = opts;
  }

  /**
   * Installs the interception of `config`.
   * @throws PlatformError ERR_CAP_NET_ADMIN | ERR_CAP_NET_BIND_SERVICE | ERR_NETWORK_INTERFACE | ERR_RULESET_INPUT | ERR_NFT_APPLY
   */
  static async start(config: GatewayConfig, opts: BridgeInterceptionOptions = {}): Promise<BridgeInterception> {
    if (!opts.skipCapabilityCheck) assertBridgeCapabilities(protectedPorts(config));
    const input = await inputFor(config, opts);
    return new BridgeInterception(await applyBridgeRules(input, opts), opts);
  }

  get input(): BridgeRulesetInput {
    return this.applied.input;
  }

  /** Moves to `config`: set elements only when the rule shape is unchanged, else an atomic re-apply. */
  async reload(config: GatewayConfig): Promise<SetUpdateOutcome> {
    const next = await inputFor(config, this.opts, this.applied.input.bridgeMac);
    const outcome = await updateBridgeRules(this.applied.input, next, this.opts);
    this.applied = { input: next, previousSysctls: this.applied.previousSysctls };
    return outcome;
  }

  /** Removes rules, routing and marks, restores the sysctls found at start. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await removeBridgeRules(this.applied.input, { ...this.opts, restoreSysctls: this.applied.previousSysctls });
    this.stopped = true;
  }
}

/** The MAC stays the one pinned at start unless the configuration names another. */
async function inputFor(config: GatewayConfig, opts: NftApplyOptions, pinnedMac?: string): Promise<BridgeRulesetInput> {
  const mac = config.gateway.bridge.mac ?? pinnedMac ?? (await readInterfaceMac(config.gateway.bridge.interface, opts));
  return bridgeRulesetInputFromConfig(config, mac);
}
