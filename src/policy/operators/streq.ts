/** @streq — the value equals the (macro-expanded) parameter, byte for byte. */
import { stringOperator } from './string-operator.js';

export const streq = stringOperator('streq', (value, param) => value === param);
