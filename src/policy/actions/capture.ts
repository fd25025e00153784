/** capture: operators that capture (@rx) store groups in TX:0..9 when they match. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'capture',
  kind: 'metadata',
  param: 'none',
  compile(_param, draft) {
    draft.capture = true;
  },
};
