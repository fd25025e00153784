/** logdata: extra alert data, macro-expanded when the rule matches (truncated in alerts). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'logdata',
  kind: 'metadata',
  param: 'required',
  compile(param, draft, ctx) {
    draft.logdata = ctx.compileMacro(param);
  },
};
