/** pass: disruptive action (effective only when the rule engine is On and the group is active). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'pass',
  kind: 'disruptive',
  param: 'none',
  compile(_param, draft) {
    draft.disruptive = { kind: 'pass' };
  },
};
