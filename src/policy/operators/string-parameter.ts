/**
 * Parameters of the string and number operators may hold macros (%{tx.allowed_methods}); ModSecurity v2
 * expands them per transaction (expand_macros). A constant parameter is used as-is with no work per value.
 */
import type { Macro, OperatorTx } from '../types.js';

export function parameterValue(macro: Macro, otx: OperatorTx): string {
  return macro.constant ?? macro.expand(otx.tx);
}

/** ModSecurity v2 copies the parameter with strlen(): a NUL byte ends it. */
export function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}
