/** block: "do what SecDefaultAction of this phase says" (CRS: pass, and the anomaly rules decide). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'block',
  kind: 'disruptive',
  param: 'none',
  compile(_param, draft, ctx) {
    draft.disruptive = ctx.defaultDisruptive();
  },
};
