import type { TransformationSpec } from '../types.js';
import { sameBytes } from './byte-preimage.js';

/** `t:none`: the engine treats it as "reset the chain"; registered so that lookups succeed. */
export const none: TransformationSpec = {
  name: 'none',
  transform: (input) => input,
  preimage: sameBytes,
};
