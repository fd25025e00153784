/** ver: rule set version. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'ver',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    draft.ver = param;
  },
};
