/**
 * What the daemon (src/daemon/gateway.ts) does around bridge mode's listeners: the capability check
 * before anything opens, the transparent listener hook, and the data plane (nftables rules, policy
 * routing, sysctls, MAC pin: src/platform/bridge-interception.ts) installed AFTER the listeners are
 * open, updated on reload, removed on a clean stop.
 *
 * The platform layer is imported lazily: alias mode never loads koffi or runs nft.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/types.js';
import type { TransparentListenerOpener } from '../../daemon/listener-registry.js';

/** The daemon's transparent listener hook (ListenerSpec.transparent): IP_TRANSPARENT via the platform layer. */
export const transparentListenerOpener: TransparentListenerOpener = async (server, spec) => {
  const { listenTransparent } = await import('../../platform/transparent-socket.js');
  await listenTransparent(server, spec);
};

/** Throws the platform's typed error (ERR_CAP_NET_ADMIN, ERR_CAP_NET_BIND_SERVICE) before any listener opens. */
export async function assertBridgeReady(config: GatewayConfig): Promise<void> {
  const [{ assertBridgeCapabilities }, { protectedPorts }] = await Promise.all([
    import('../../platform/capabilities.js'),
    import('../../platform/bridge-ruleset-input.js'),
  ]);
  assertBridgeCapabilities(protectedPorts(config));
}

export interface BridgeDataPlane {
  /** Moves the rules to `config` (set elements only when the rule shape is unchanged). */
  reload(config: GatewayConfig): Promise<void>;
  /** Removes every rule, ip rule, route and mark and restores the sysctls. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Installs the interception for `config`. Call it once the transparent listeners listen: until the
 * rules exist nothing is intercepted, so a start that fails half-way leaves a plain bridge (fail-open).
 */
export async function startBridgeDataPlane(config: GatewayConfig, logger: Logger): Promise<BridgeDataPlane> {
  const { BridgeInterception } = await import('../../platform/bridge-interception.js');
  const log = logger.child({ component: 'bridge' });
  // Capabilities were checked before the listeners opened (assertBridgeReady).
  const interception = await BridgeInterception.start(config, { skipCapabilityCheck: true });
  const b = config.gateway.bridge;
  log.info({
    design: b.design, failure: b.failure, transparency: b.transparency, table: b.nftTable, mark: b.mark,
    routeTable: b.routeTable, bridge: b.interface, mac: interception.input.bridgeMac,
    endpoints: (interception.input.endpoints ?? []).map((e) => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`)),
  }, 'bridge interception installed');
  return {
    async reload(next: GatewayConfig): Promise<void> {
      const outcome = await interception.reload(next);
      log.info({ outcome }, 'bridge interception updated');
    },
    async stop(): Promise<void> {
      await interception.stop();
      log.info({ table: b.nftTable }, 'bridge interception removed: rules, routing and marks are gone');
    },
  };
}
