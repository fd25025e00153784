/** status: HTTP status for deny (and redirect: 301, 302, 303, 307). */
import { parseIntParam, type ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'status',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    draft.status = parseIntParam('status', param, 100, 599);
  },
};
