import type { TransformationSpec } from '../types.js';
import { sameBytes, whenProduced } from './byte-preimage.js';

/** Replaces every NUL byte with a space. */
export const replaceNulls: TransformationSpec = {
  name: 'replaceNulls',
  preimage: (s) => whenProduced(sameBytes(s), 0x20, [0]),
  transform: (input) => (input.indexOf('\0') === -1 ? input : input.split('\0').join(' ')),
};
