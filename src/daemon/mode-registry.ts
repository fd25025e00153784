/**
 * The data path of each deployment mode, loaded only when the configuration asks for that mode (so
 * alias mode runs where the native pieces of bridge and sniff are missing). Later modes add one entry.
 */
import type { Mode } from '../config/types.js';
import { DaemonError } from './errors.js';
import type { ModeRuntimeFactory } from './runtime.js';

type ModeLoader = () => Promise<ModeRuntimeFactory>;

function notAvailable(mode: Mode): ModeLoader {
  return async () => {
    throw new DaemonError('ERR_MODE_NOT_AVAILABLE', `mode "${mode}" is not available in this build yet (gateway.mode)`);
  };
}

const MODES: Readonly<Record<Mode, ModeLoader>> = {
  alias: async () => (await import('../modes/alias/alias-runtime.js')).createAliasRuntime,
  bridge: async () => (await import('../modes/bridge/bridge-runtime.js')).createBridgeRuntime,
  sniff: notAvailable('sniff'),
};

export function loadModeRuntimeFactory(mode: Mode): Promise<ModeRuntimeFactory> {
  return MODES[mode]();
}
