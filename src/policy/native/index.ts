/** Compiles a server group's native policies in a fixed order (cheapest and most decisive first). */
import type { NativePolicies } from '../../config/types.js';
import type { NativePolicy } from './native-policy.js';
import { ipDenyPolicy } from './ip-deny.js';
import { ipAllowPolicy } from './ip-allow.js';
import { allowedMethodsPolicy } from './allowed-methods.js';
import { urlSizePolicy } from './url-size.js';
import { headerSizePolicy } from './header-size.js';
import { bodySizePolicy } from './body-size.js';
import { rateLimitPolicy } from './rate-limit.js';
import { customRulePolicy } from './custom-rule.js';

export type { NativePolicy, NativeHit, NativeRequest } from './native-policy.js';
export { NATIVE_IDS } from './native-policy.js';

export interface NativeSet {
  readonly policies: readonly NativePolicy[];
  /** Releases state (rate-limit buckets). */
  clear(): void;
}

/** Throws an Error per bad entry; the caller reports it with the config position. */
export function compileNativePolicies(cfg: NativePolicies, problems: { message: string; line: number; col: number }[], pos: { line: number; col: number }): NativeSet {
  const list: NativePolicy[] = [];
  const clearers: (() => void)[] = [];
  const attempt = (what: string, f: () => NativePolicy, at = pos) => {
    try {
      list.push(f());
    } catch (err) {
      problems.push({ message: `${what}: ${(err as Error).message}`, line: at.line, col: at.col });
    }
  };
  if (cfg.ipDeny.length > 0) attempt('native.ipDeny', () => ipDenyPolicy(cfg.ipDeny));
  if (cfg.ipAllow.length > 0) attempt('native.ipAllow', () => ipAllowPolicy(cfg.ipAllow));
  if (cfg.allowedMethods) attempt('native.allowedMethods', () => allowedMethodsPolicy(cfg.allowedMethods!));
  if (cfg.maxUrlBytes !== null) attempt('native.maxUrlBytes', () => urlSizePolicy(cfg.maxUrlBytes!));
  if (cfg.maxHeaderBytes !== null) attempt('native.maxHeaderBytes', () => headerSizePolicy(cfg.maxHeaderBytes!));
  if (cfg.maxBodyBytes !== null) attempt('native.maxBodyBytes', () => bodySizePolicy(cfg.maxBodyBytes!));
  if (cfg.rateLimit) {
    const rl = rateLimitPolicy(cfg.rateLimit);
    clearers.push(() => rl.clear());
    list.push(rl);
  }
  for (const r of cfg.rules) attempt(`native rule ${r.id} "${r.name}"`, () => customRulePolicy(r), r.pos);
  return { policies: list, clear: () => clearers.forEach((c) => c()) };
}
