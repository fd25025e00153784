/** auditlog: recorded; the engine keeps no audit log of its own (alerts carry the data). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'auditlog',
  kind: 'metadata',
  param: 'none',
  compile(_param, draft) {
    draft.auditlog = true;
  },
};
