/** id: the rule id (1..2^31-1). */
import { parseIntParam, type ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'id',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    draft.id = parseIntParam('id', param, 1, 2147483647);
  },
};
