/** severity: 0..7 or EMERGENCY … DEBUG (ModSecurity's syslog-style scale). */
import { parseIntParam, type ActionSpec } from './action-spec.js';
import { SEVERITIES } from '../rule.js';

export const action: ActionSpec = {
  name: 'severity',
  kind: 'metadata',
  param: 'required',
  compile(param, draft) {
    const idx = (SEVERITIES as readonly string[]).indexOf(param.trim().toUpperCase());
    draft.severity = idx >= 0 ? idx : parseIntParam('severity', param, 0, 7);
  },
};
