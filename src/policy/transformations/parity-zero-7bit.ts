import type { TransformationSpec } from '../types.js';
import { mapBytes } from './parity.js';

/** Clears bit 7 of every byte. */
export const parityZero7bit: TransformationSpec = {
  name: 'parityZero7bit',
  transform: (input) => mapBytes(input, (x) => x & 0x7f),
};
