/** skip:N: skip the next N rules (a chain counts as one) of the current phase. */
import { parseIntParam, type ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'skip',
  kind: 'flow',
  param: 'required',
  compile(param, draft) {
    const n = parseIntParam('skip', param, 1, 1_000_000);
    draft.flow.push({ name: 'skip', run: (tx) => tx.requestSkip(n) });
  },
};
