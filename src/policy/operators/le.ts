/** @le — atoi(value) <= atoi(parameter), as ModSecurity v2. */
import { numericOperator } from './numeric-operator.js';

export const le = numericOperator('le', (left, right) => left <= right);
