/**
 * Operators ModSecurity v2 has but Portcullis does not implement. They are load errors, never silent
 * passes: a rule that relies on one must not load as if it were protecting something.
 */
import type { OperatorSpec } from '../types.js';

export function unsupportedOperator(name: string, why: string, aliases?: readonly string[]): OperatorSpec {
  return {
    name,
    ...(aliases ? { aliases } : {}),
    create(): never {
      throw new Error(`operator @${name} is not supported: ${why}`);
    },
  };
}
