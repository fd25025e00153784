import type { TransformationSpec } from '../types.js';

/** Replaces every NUL byte with a space. */
export const replaceNulls: TransformationSpec = {
  name: 'replaceNulls',
  transform: (input) => (input.indexOf('\0') === -1 ? input : input.split('\0').join(' ')),
};
