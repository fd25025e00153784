/** @unconditionalMatch — always matches (what SecAction uses). */
import type { OperatorSpec } from '../types.js';

export const unconditionalMatch: OperatorSpec = {
  name: 'unconditionalMatch',
  create() { return { evaluate: () => true }; },
};
