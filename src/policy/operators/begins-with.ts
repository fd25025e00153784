/** @beginsWith — the value starts with the parameter; an empty parameter always matches (ModSecurity v2). */
import { stringOperator } from './string-operator.js';

export const beginsWith = stringOperator('beginsWith', (value, param) => value.startsWith(param));
