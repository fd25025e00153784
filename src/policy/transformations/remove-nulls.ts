import type { TransformationSpec } from '../types.js';
import { byteSet, sameBytes } from './byte-preimage.js';

/** Removes every NUL byte. */
export const removeNulls: TransformationSpec = {
  name: 'removeNulls',
  preimage: sameBytes,
  // The identity without NUL.
  triggers: byteSet([0]),
  transform: (input) => (input.indexOf('\0') === -1 ? input : input.split('\0').join('')),
};
