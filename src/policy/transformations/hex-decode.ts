import type { TransformationSpec } from '../types.js';
import { fromBytes, workBuffer, x2c } from './byte-string.js';

/**
 * Port of v2 hex2bytes_inplace(): every pair of bytes becomes one byte through x2c() without
 * validation (non-hex pairs give the same wrapped values as v2); an odd last byte is dropped.
 */
export const hexDecode: TransformationSpec = {
  name: 'hexDecode',
  transform(input) {
    const n = input.length;
    const out = workBuffer(n >> 1);
    let d = 0;
    for (let i = 0; i + 1 < n; i += 2) out[d++] = x2c(input.charCodeAt(i), input.charCodeAt(i + 1));
    return fromBytes(out, d);
  },
};
