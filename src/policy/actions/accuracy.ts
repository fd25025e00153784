/** accuracy: 1..9. */
import { parseIntParam, type ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'accuracy',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    draft.accuracy = parseIntParam('accuracy', param, 0, 9);
  },
};
