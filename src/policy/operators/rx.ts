/**
 * @rx — PCRE match as ModSecurity v2 compiles it (DOTALL, DOLLAR_ENDONLY, bytes). With `capture`, TX.0 is
 * the whole match and TX.1…TX.9 the groups up to the last one that took part (a group that did not take
 * part in between is ""). A parameter holding a macro is expanded per transaction and the resulting
 * pattern compiled once and cached (bounded), as v2 compiles it per use.
 */
import type { OperatorSpec, OperatorTx } from '../types.js';
import { compileRuleRegex, type CompiledRegex } from '../regex/index.js';

const MAX_CACHED_EXPANSIONS = 256;

function evaluateWith(re: CompiledRegex, otx: OperatorTx, value: string): boolean {
  if (!otx.capturing) return re.test(value);
  const m = re.exec(value);
  if (m === null) return false;
  let last = 0;
  for (let g = 0; g < m.length && g <= 9; g++) if (m[g] !== undefined) last = g;
  for (let g = 0; g <= last; g++) otx.setCapture(g, m[g] ?? '');
  return true;
}

export const rx: OperatorSpec = {
  name: 'rx',
  create(param, macro) {
    if (macro.constant !== null) {
      const re = compileRuleRegex(macro.constant);
      return { evaluate: (otx, value) => evaluateWith(re, otx, value) };
    }
    // Validate the shape now with the macros left as text, so a broken pattern is a load error.
    compileRuleRegex(param.replace(/%\{[^}]*\}/g, 'x'));
    const cache = new Map<string, CompiledRegex | null>();
    return {
      evaluate(otx, value) {
        const pattern = macro.expand(otx.tx);
        let re = cache.get(pattern);
        if (re === undefined) {
          try { re = compileRuleRegex(pattern); } catch { re = null; } // v2: a bad expanded pattern does not match
          if (cache.size >= MAX_CACHED_EXPANSIONS) cache.delete(cache.keys().next().value as string);
          cache.set(pattern, re);
        }
        return re !== null && evaluateWith(re, otx, value);
      },
    };
  },
};
