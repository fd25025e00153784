/** skipAfter:MARKER: continue after the SecMarker (or rule id) of that name in the current phase. */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'skipAfter',
  kind: 'flow',
  param: 'required',
  compile(param, draft) {
    const marker = param.trim();
    if (marker === '') throw new Error('skipAfter: empty marker');
    draft.flow.push({ name: 'skipAfter', skipAfter: marker, run: (tx) => tx.requestSkipAfter(marker) });
  },
};
