/**
 * The search loop shared by @verifyCC, @verifySSN and @verifyCPF (ModSecurity v2): the parameter is a
 * regex compiled with DOTALL|MULTILINE; each candidate match is checked (Luhn, SSN rules, CPF digits) and
 * on failure the search resumes one byte after the candidate's start. With `capture`, TX.0 (and every
 * TX.n up to the pattern's group count, as v2 does) holds the verified candidate.
 */
import type { Operator } from '../types.js';
import { compileRuleRegex } from '../regex/index.js';
import { utf8Bytes } from './byte-string.js';

export function checkedNumberSearch(name: string, param: string, verify: (candidate: string) => boolean): Operator {
  if (param.trim() === '') throw new Error(`missing parameter for operator '${name}'`);
  const re = compileRuleRegex('(?m)' + utf8Bytes(param));
  return {
    evaluate(otx, value) {
      for (let offset = 0; offset < value.length; offset++) {
        const m = re.search(value, offset);
        if (m === null) return false;
        const candidate = m.groups[0]!;
        offset = m.index;
        if (candidate.length === 0 || !verify(candidate)) continue; // PCRE_NOTEMPTY, then v2's "try again"
        if (otx.capturing) {
          for (let g = 0; g < m.groups.length && g <= 9; g++) if (g === 0 || m.groups[g] !== undefined) otx.setCapture(g, candidate);
        }
        return true;
      }
      return false;
    },
  };
}
