import type { TransformationSpec } from '../types.js';

/** The length of the value in bytes, as decimal text. */
export const length: TransformationSpec = {
  name: 'length',
  transform: (input) => String(input.length),
};
