/** phase: 1..5, or the aliases request (2), response (4), logging (5). */
import { parseIntParam, type ActionSpec } from './action-spec.js';

const ALIASES: Record<string, number> = { request: 2, response: 4, logging: 5 };

export const action: ActionSpec = {
  name: 'phase',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    const alias = ALIASES[param.trim().toLowerCase()];
    draft.phase = alias ?? parseIntParam('phase', param, 1, 5);
  },
};
