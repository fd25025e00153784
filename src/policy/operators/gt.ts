/** @gt — atoi(value) > atoi(parameter), as ModSecurity v2. */
import { numericOperator } from './numeric-operator.js';

export const gt = numericOperator('gt', (left, right) => left > right);
