import type { TransformationSpec } from '../types.js';
import { normalisePathBytes } from './normalise-path.js';

/** normalisePath after turning backslashes into slashes (v2's win=1 mode). */
export const normalisePathWin: TransformationSpec = {
  name: 'normalisePathWin',
  transform: (input) => normalisePathBytes(input, true),
};
