import type { TransformationSpec } from '../types.js';
import { mapBytes } from './parity.js';

/** Sets bit 7 so that every byte has odd parity. */
export const parityOdd7bit: TransformationSpec = {
  name: 'parityOdd7bit',
  transform: (input) => mapBytes(input, (x, odd) => (odd ? x & 0x7f : x | 0x80)),
};
