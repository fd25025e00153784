/** nolog: matches of this rule are not alerts (nor audit-logged, as in ModSecurity). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'nolog',
  kind: 'metadata',
  param: 'none',
  compile(_param, draft) {
    draft.log = false;
    draft.auditlog = false;
  },
};
