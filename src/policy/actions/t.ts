/** t: a transformation; t:none clears the list (including those inherited from SecDefaultAction). */
import type { ActionSpec } from './action-spec.js';
import { getTransformation } from '../transformations/index.js';

export const action: ActionSpec = {
  name: 't',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    const name = param.trim();
    if (name.toLowerCase() === 'none') {
      draft.transforms.length = 0;
      return;
    }
    const spec = getTransformation(name);
    if (!spec) throw new Error(`unknown transformation "${name}"`);
    draft.transforms.push(spec);
  },
};
