/** redirect: answer with a redirect (status from `status` if 301/302/303/307, else 302) to the URL. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'redirect',
  kind: 'disruptive',
  param: 'required',
  compile(param, draft, ctx) {
    draft.disruptive = { kind: 'redirect', location: ctx.compileMacro(param) };
  },
};
