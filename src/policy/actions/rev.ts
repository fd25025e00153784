/** rev: rule revision. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'rev',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    draft.rev = param;
  },
};
