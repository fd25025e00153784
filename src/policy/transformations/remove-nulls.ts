import type { TransformationSpec } from '../types.js';

/** Removes every NUL byte. */
export const removeNulls: TransformationSpec = {
  name: 'removeNulls',
  transform: (input) => (input.indexOf('\0') === -1 ? input : input.split('\0').join('')),
};
