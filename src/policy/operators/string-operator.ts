/**
 * Shared shape of the string operators (@streq, @contains, @beginsWith, …): the parameter may hold macros,
 * a constant one is converted to bytes once, and `test(value, param)` decides. Nothing is allocated per
 * value for a constant parameter.
 */
import type { Operator, OperatorSpec } from '../types.js';
import { utf8Bytes } from './byte-string.js';
import { cString } from './string-parameter.js';

export function stringOperator(name: string, test: (value: string, param: string) => boolean): OperatorSpec {
  return {
    name,
    create(_param, macro): Operator {
      if (macro.constant !== null) {
        const p = cString(utf8Bytes(macro.constant));
        return { evaluate: (_otx, value) => test(value, p) };
      }
      return { evaluate: (otx, value) => test(value, cString(macro.expand(otx.tx))) };
    },
  };
}
