/**
 * The data path of each deployment mode, loaded only when the configuration asks for that mode (so
 * alias mode runs where the native pieces of bridge and sniff are missing). Later modes add one entry.
 */
import type { Mode } from '../config/types.js';
import type { ModeRuntimeFactory } from './runtime.js';

type ModeLoader = () => Promise<ModeRuntimeFactory>;

const MODES: Readonly<Record<Mode, ModeLoader>> = {
  alias: async () => (await import('../modes/alias/alias-runtime.js')).createAliasRuntime,
  bridge: async () => (await import('../modes/bridge/bridge-runtime.js')).createBridgeRuntime,
  sniff: async () => (await import('../modes/sniff/sniff-runtime.js')).createSniffRuntime,
};

export function loadModeRuntimeFactory(mode: Mode): Promise<ModeRuntimeFactory> {
  return MODES[mode]();
}
