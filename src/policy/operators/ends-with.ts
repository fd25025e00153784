/** @endsWith — the value ends with the parameter; an empty parameter always matches (ModSecurity v2). */
import { stringOperator } from './string-operator.js';

export const endsWith = stringOperator('endsWith', (value, param) => value.endsWith(param));
