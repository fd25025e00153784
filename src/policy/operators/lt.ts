/** @lt — atoi(value) < atoi(parameter), as ModSecurity v2. */
import { numericOperator } from './numeric-operator.js';

export const lt = numericOperator('lt', (left, right) => left < right);
