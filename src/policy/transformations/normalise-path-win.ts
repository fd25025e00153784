import type { TransformationSpec } from '../types.js';
import { normalisePathBytes } from './normalise-path.js';
import { byteSet, sameBytes, whenProduced } from './byte-preimage.js';

/** normalisePath after turning backslashes into slashes (v2's win=1 mode). */
export const normalisePathWin: TransformationSpec = {
  name: 'normalisePathWin',
  // Bytes are copied or dropped, and '\\' becomes '/'.
  preimage: (s) => whenProduced(sameBytes(s), 0x2f, [0x5c]),
  // Without '\\' it is normalisePath, the identity without '/' and '.'.
  triggers: byteSet([0x2f, 0x2e, 0x5c]),
  transform: (input) => normalisePathBytes(input, true),
};
