import type { TransformationSpec } from '../types.js';
import { sameBytes } from './byte-preimage.js';

/** Removes every NUL byte. */
export const removeNulls: TransformationSpec = {
  name: 'removeNulls',
  preimage: sameBytes,
  transform: (input) => (input.indexOf('\0') === -1 ? input : input.split('\0').join('')),
};
