/** @eq — atoi(value) === atoi(parameter), as ModSecurity v2. */
import { numericOperator } from './numeric-operator.js';

export const eq = numericOperator('eq', (left, right) => left === right);
