import type { TransformationSpec } from '../types.js';
import { fromBytes, isXDigit, x2c } from './byte-string.js';

/**
 * Port of v2 sql_hex2bytes_inplace(): each "0x"/"0X" followed by hex pairs becomes the decoded
 * bytes (an odd last digit stays as text); "0x" without two hex digits is kept. Like v2 the value
 * ends at the first NUL byte.
 */
export const sqlHexDecode: TransformationSpec = {
  name: 'sqlHexDecode',
  transform(input) {
    const nul = input.indexOf('\0');
    const n = nul === -1 ? input.length : nul;
    const out = new Uint8Array(n);
    const at = (k: number): number => (k < n ? input.charCodeAt(k) : 0);
    let d = 0;
    let p = 0;
    while (p < n) {
      const c = at(p);
      if (c === 0x30 && (at(p + 1) | 0x20) === 0x78 && isXDigit(at(p + 2)) && isXDigit(at(p + 3))) {
        p += 2;
        while (isXDigit(at(p)) && isXDigit(at(p + 1))) {
          out[d++] = x2c(at(p), at(p + 1));
          p += 2;
        }
        // v2 copies the byte after the hex run without looking at it again.
        if (p < n) out[d++] = at(p++);
        continue;
      }
      out[d++] = c;
      p++;
    }
    const result = fromBytes(out, d);
    return result === input ? input : result;
  },
};
