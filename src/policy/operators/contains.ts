/** @contains — the parameter occurs in the value; an empty parameter always matches (ModSecurity v2). */
import { stringOperator } from './string-operator.js';

export const contains = stringOperator('contains', (value, param) => value.includes(param));
