import type { TransformationSpec } from '../types.js';
import { trimLeftBytes } from './trim-left.js';
import { trimRightBytes } from './trim-right.js';
import { sameBytes } from './byte-preimage.js';

/** Removes leading and trailing C-locale whitespace. */
export const trim: TransformationSpec = {
  name: 'trim',
  transform: (input) => trimRightBytes(trimLeftBytes(input)),
  // Only removes bytes.
  preimage: sameBytes,
};
