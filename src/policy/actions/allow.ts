/**
 * allow: stop evaluating. `allow` skips every remaining phase but logging; `allow:phase` the rest of
 * the current phase; `allow:request` the rest of the request phases (response phases still run).
 */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'allow',
  kind: 'disruptive',
  param: 'optional',
  compile(param, draft) {
    const p = param.trim().toLowerCase();
    if (p !== '' && p !== 'phase' && p !== 'request') throw new Error(`allow: unknown scope "${param}" (phase or request)`);
    draft.disruptive = { kind: 'allow', allowScope: p === '' ? 'all' : p };
  },
};
