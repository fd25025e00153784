/** log: matches of this rule are alerts. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'log',
  kind: 'metadata',
  param: 'none',
  compile(_param, draft) {
    draft.log = true;
  },
};
