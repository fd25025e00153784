/** noauditlog: recorded, see auditlog. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'noauditlog',
  kind: 'metadata',
  param: 'none',
  compile(_param, draft) {
    draft.auditlog = false;
  },
};
