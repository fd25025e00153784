/**
 * sanitiseMatchedBytes: accepted for compatibility. It only affects ModSecurity's audit log, which this engine does
 * not write; alerts truncate matched data instead.
 */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'sanitiseMatchedBytes',
  kind: 'metadata',
  param: 'optional',
  compile() {},
};
