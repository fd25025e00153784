import type { TransformationSpec } from '../types.js';
import { fromBytes, isOctDigit, isXDigit, toCBytes, x2c } from './byte-string.js';
import { byteSet, withBytes } from './byte-preimage.js';

/**
 * Port of v2 js_decode_nonstrict_inplace(): \uHHHH keeps the low byte (full-width ASCII
 * \uFF01-\uFF5E mapped down by 0x20), \xHH, \OOO (at most one byte), \a \b \f \n \r \t \v, and any
 * other escaped character stands for itself. A lone trailing backslash is kept.
 */
export const jsDecode: TransformationSpec = {
  name: 'jsDecode',
  // The identity without '\\'.
  preimage: (s) => withBytes(s, [0x5c]),
  triggers: byteSet([0x5c]),
  transform(input) {
    if (input.indexOf('\\') === -1) return input;
    const b = toCBytes(input);
    const n = input.length;
    let i = 0;
    let d = 0;
    while (i < n) {
      if (b[i] !== 0x5c) {
        b[d++] = b[i++]!;
        continue;
      }
      const e = b[i + 1]!;
      if (i + 5 < n && e === 0x75 && isXDigit(b[i + 2]!) && isXDigit(b[i + 3]!) && isXDigit(b[i + 4]!) && isXDigit(b[i + 5]!)) {
        let v = x2c(b[i + 4]!, b[i + 5]!);
        const h1 = b[i + 2]!;
        const h2 = b[i + 3]!;
        if (v > 0x00 && v < 0x5f && (h1 === 0x66 || h1 === 0x46) && (h2 === 0x66 || h2 === 0x46)) v += 0x20;
        b[d++] = v;
        i += 6;
      } else if (i + 3 < n && e === 0x78 && isXDigit(b[i + 2]!) && isXDigit(b[i + 3]!)) {
        b[d++] = x2c(b[i + 2]!, b[i + 3]!);
        i += 4;
      } else if (i + 1 < n && isOctDigit(e)) {
        let j = 0;
        while (i + 1 + j < n && j < 3) {
          j++;
          if (!isOctDigit(b[i + 1 + j]!)) break;
        }
        // Do not take a third digit if the value would not fit in a byte (\4xx and up).
        if (j === 3 && b[i + 1]! > 0x33) j = 2;
        let v = 0;
        for (let k = 0; k < j; k++) v = v * 8 + (b[i + 1 + k]! - 0x30);
        b[d++] = v & 0xff;
        i += 1 + j;
      } else if (i + 1 < n) {
        b[d++] = SIMPLE_ESCAPES[e] ?? e;
        i += 2;
      } else {
        while (i < n) b[d++] = b[i++]!;
      }
    }
    return d === n ? input : fromBytes(b, d);
  },
};

const SIMPLE_ESCAPES: Record<number, number> = {
  0x61: 0x07, // \a
  0x62: 0x08, // \b
  0x66: 0x0c, // \f
  0x6e: 0x0a, // \n
  0x72: 0x0d, // \r
  0x74: 0x09, // \t
  0x76: 0x0b, // \v
};
