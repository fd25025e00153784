/** multiMatch: run the operator after every transformation that changed the value, not only at the end. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'multiMatch',
  kind: 'metadata',
  param: 'none',
  compile(_param, draft) {
    draft.multiMatch = true;
  },
};
