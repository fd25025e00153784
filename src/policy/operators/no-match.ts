/** @noMatch — never matches. */
import type { OperatorSpec } from '../types.js';

export const noMatch: OperatorSpec = {
  name: 'noMatch',
  create() { return { evaluate: () => false }; },
};
