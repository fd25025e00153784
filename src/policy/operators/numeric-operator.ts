/**
 * Shared shape of @eq/@ge/@gt/@le/@lt: both sides go through C atoi() as in ModSecurity v2 ("abc" is 0,
 * " 12abc" is 12, out-of-range values wrap like the C cast), and the parameter may hold macros.
 */
import type { Operator, OperatorSpec } from '../types.js';
import { cAtoi } from './c-numbers.js';

export function numericOperator(name: string, compare: (left: number, right: number) => boolean): OperatorSpec {
  return {
    name,
    create(_param, macro): Operator {
      if (macro.constant !== null) {
        const right = cAtoi(macro.constant);
        return { evaluate: (_otx, value) => compare(cAtoi(value), right) };
      }
      return { evaluate: (otx, value) => compare(cAtoi(value), cAtoi(macro.expand(otx.tx))) };
    },
  };
}
