import type { TransformationSpec } from '../types.js';

/** `t:none`: the engine treats it as "reset the chain"; registered so that lookups succeed. */
export const none: TransformationSpec = {
  name: 'none',
  transform: (input) => input,
};
