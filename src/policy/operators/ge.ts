/** @ge — atoi(value) >= atoi(parameter), as ModSecurity v2. */
import { numericOperator } from './numeric-operator.js';

export const ge = numericOperator('ge', (left, right) => left >= right);
