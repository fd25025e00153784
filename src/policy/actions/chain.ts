/** chain: the next SecRule is part of this rule; the whole chain must match. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'chain',
  kind: 'metadata',
  param: 'none',
  compile(_param, draft) {
    draft.chain = true;
  },
};
