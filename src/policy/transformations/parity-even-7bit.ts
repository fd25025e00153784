import type { TransformationSpec } from '../types.js';
import { mapBytes } from './parity.js';

/** Sets bit 7 so that every byte has even parity. */
export const parityEven7bit: TransformationSpec = {
  name: 'parityEven7bit',
  transform: (input) => mapBytes(input, (x, odd) => (odd ? x | 0x80 : x & 0x7f)),
};
