import type { TransformationSpec } from '../types.js';

/** Standard base64 with padding (apr_base64_encode). */
export const base64Encode: TransformationSpec = {
  name: 'base64Encode',
  transform: (input) => Buffer.from(input, 'latin1').toString('base64'),
};
