/** maturity: 1..9. */
import { parseIntParam, type ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'maturity',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    draft.maturity = parseIntParam('maturity', param, 0, 9);
  },
};
