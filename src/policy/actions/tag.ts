/** tag: a classification tag (ruleRemoveByTag / SecRuleRemoveByTag match these). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'tag',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    draft.tags.push(param);
  },
};
