import type { TransformationSpec } from '../types.js';
import { fromBytes, hexDigitLoose, isSpace, isXDigit, toCBytes, x2c } from './byte-string.js';
import { byteSet, withBytes } from './byte-preimage.js';

/**
 * Port of v2 css_decode_inplace(): a backslash followed by 1-6 hex digits keeps only the last byte
 * (full-width ASCII mapped down), one whitespace after the escape is eaten, backslash-newline
 * disappears, any other escaped byte stands for itself, and a trailing backslash is dropped.
 */
export const cssDecode: TransformationSpec = {
  name: 'cssDecode',
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
      if (i + 1 >= n) {
        i++; // Trailing backslash: continuation to nothing.
        continue;
      }
      i++;
      let j = 0;
      while (j < 6 && i + j < n && isXDigit(b[i + j]!)) j++;
      if (j > 0) {
        let fullcheck = false;
        let v: number;
        switch (j) {
          case 1:
            v = hexDigitLoose(b[i]!);
            break;
          case 2:
          case 3:
            v = x2c(b[i + j - 2]!, b[i + j - 1]!);
            break;
          case 4:
            v = x2c(b[i + j - 2]!, b[i + j - 1]!);
            fullcheck = true;
            break;
          case 5:
            v = x2c(b[i + j - 2]!, b[i + j - 1]!);
            fullcheck = b[i] === 0x30;
            break;
          default:
            v = x2c(b[i + j - 2]!, b[i + j - 1]!);
            fullcheck = b[i] === 0x30 && b[i + 1] === 0x30;
            break;
        }
        if (fullcheck && v > 0x00 && v < 0x5f) {
          const h1 = b[i + j - 4]!;
          const h2 = b[i + j - 3]!;
          if ((h2 === 0x66 || h2 === 0x46) && (h1 === 0x66 || h1 === 0x46)) v += 0x20;
        }
        b[d++] = v;
        if (i + j < n && isSpace(b[i + j]!)) j++;
        i += j;
      } else if (b[i] === 0x0a) {
        i++;
      } else {
        b[d++] = b[i++]!;
      }
    }
    return d === n ? input : fromBytes(b, d);
  },
};
