/**
 * @rx — PCRE match as ModSecurity v2 compiles it (DOTALL, DOLLAR_ENDONLY, bytes). With `capture`, TX.0 is
 * the whole match and TX.1…TX.9 the groups up to the last one that took part (a group that did not take
 * part in between is ""). A parameter holding a macro is expanded per transaction, passed through v2's
 * log_escape_re() (which v2 applies to the whole expanded pattern), then compiled once and cached.
 */
import type { OperatorSpec, OperatorTx } from '../types.js';
import { compileRuleRegex, type CompiledRegex } from '../regex/index.js';

const MAX_CACHED_EXPANSIONS = 256;

/**
 * ModSecurity v2 compiles a macro-expanded @rx pattern after log_escape_re(): it backslash-escapes
 * `: " + . [ ] ( ) ? / \`, writes \b \n \r \t \v for those control bytes and \xHH for other bytes below
 * 0x20 or from 0x7F, and leaves everything else (`^ $ | * { }` …) alone. So in "^%{tx.list}$" an expanded
 * "utf-8|iso-8859-1" still alternates, while a "(" in the pattern becomes a literal.
 */
export function logEscapeRe(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    switch (ch) {
      case ':': case '"': case '+': case '.': case ']': case '[': case '(': case ')': case '?': case '/': case '\\':
        out += '\\' + ch; break;
      case '\b': out += '\\b'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\v': out += '\\v'; break;
      default:
        if (c > 0xff) { // from the (UTF-8) rule text, not from a byte-string value: escape its UTF-8 bytes
          for (const b of Buffer.from(ch, 'utf8')) out += '\\x' + b.toString(16).padStart(2, '0');
        } else {
          out += c <= 0x1f || c >= 0x7f ? '\\x' + c.toString(16).padStart(2, '0') : ch;
        }
    }
  }
  return out;
}

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
      return { evaluate: (otx, value) => evaluateWith(re, otx, value), requiredBytes: re.requiredByteSets, regex: re };
    }
    // Escaping makes almost anything a valid pattern; check the shape once so a broken one fails at load.
    compileRuleRegex(logEscapeRe(param.replace(/%\{[^}]*\}/g, 'x')));
    const cache = new Map<string, CompiledRegex | null>();
    return {
      evaluate(otx, value) {
        const pattern = logEscapeRe(macro.expand(otx.tx));
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
