import type { TransformationSpec } from '../types.js';

/** Lower-case hexadecimal of every byte (v2 bytes2hex). */
export const hexEncode: TransformationSpec = {
  name: 'hexEncode',
  transform: (input) => Buffer.from(input, 'latin1').toString('hex'),
};
