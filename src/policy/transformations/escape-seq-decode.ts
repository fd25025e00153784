import type { TransformationSpec } from '../types.js';
import { fromBytes, isOctDigit, isXDigit, toCBytes, x2c } from './byte-string.js';
import { withBytes } from './byte-preimage.js';

/**
 * Port of v2 ansi_c_sequences_decode_inplace(): \a \b \f \n \r \t \v \\ \? \' \", \xHH and \OOO
 * (up to three digits, truncated to a byte). An unknown or invalid escape drops the backslash.
 */
export const escapeSeqDecode: TransformationSpec = {
  name: 'escapeSeqDecode',
  // The identity without '\\'.
  preimage: (s) => withBytes(s, [0x5c]),
  transform(input) {
    if (input.indexOf('\\') === -1) return input;
    const b = toCBytes(input);
    const n = input.length;
    let i = 0;
    let d = 0;
    while (i < n) {
      if (b[i] !== 0x5c || i + 1 >= n) {
        b[d++] = b[i++]!;
        continue;
      }
      const e = b[i + 1]!;
      let c = ESCAPES[e] ?? -1;
      if (c !== -1) {
        i += 2;
      } else if (e === 0x78 || e === 0x58) {
        if (i + 3 < n && isXDigit(b[i + 2]!) && isXDigit(b[i + 3]!)) {
          c = x2c(b[i + 2]!, b[i + 3]!);
          i += 4;
        }
      } else if (isOctDigit(e)) {
        let j = 0;
        while (i + 1 + j < n && j < 3) {
          j++;
          if (!isOctDigit(b[i + 1 + j]!)) break;
        }
        let v = 0;
        for (let k = 0; k < j; k++) v = v * 8 + (b[i + 1 + k]! - 0x30);
        c = v;
        i += 1 + j;
      }
      if (c === -1) {
        b[d++] = b[i + 1]!;
        i += 2;
      } else {
        b[d++] = c & 0xff;
      }
    }
    return d === n ? input : fromBytes(b, d);
  },
};

const ESCAPES: Record<number, number> = {
  0x61: 0x07,
  0x62: 0x08,
  0x66: 0x0c,
  0x6e: 0x0a,
  0x72: 0x0d,
  0x74: 0x09,
  0x76: 0x0b,
  0x5c: 0x5c,
  0x3f: 0x3f,
  0x27: 0x27,
  0x22: 0x22,
};
