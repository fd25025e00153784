import type { TransformationSpec } from '../types.js';
import { fromBytes, toCBytes } from './byte-string.js';
import { ASCII_UPPER, addAsciiUpperSources, byteSet, sameBytes, whenProduced } from './byte-preimage.js';

/**
 * Port of v2 cmdLine: deletes \ " ' ^; turns runs of space , ; \t \r \n into one space; drops a
 * space before / or (; lowercases the rest. Like v2 it stops at the first NUL byte.
 */
export const cmdLine: TransformationSpec = {
  name: 'cmdLine',
  // Bytes are lower-cased, dropped, or become a space (from space , ; \t \r \n).
  preimage: (s) => whenProduced(addAsciiUpperSources(sameBytes(s), s), 0x20, [0x2c, 0x3b, 0x09, 0x0d, 0x0a]),
  // Everything else is copied: A-Z, the deleted bytes, the space-like bytes and NUL (the end).
  triggers: byteSet([...ASCII_UPPER, 0x22, 0x27, 0x5c, 0x5e, 0x20, 0x2c, 0x3b, 0x09, 0x0d, 0x0a, 0x00]),
  transform(input) {
    const nul = input.indexOf('\0');
    const n = nul === -1 ? input.length : nul;
    const b = toCBytes(input);
    let d = 0;
    let space = false;
    for (let i = 0; i < n; i++) {
      const c = b[i]!;
      switch (c) {
        case 0x22: // "
        case 0x27: // '
        case 0x5c: // \
        case 0x5e: // ^
          continue;
        case 0x20:
        case 0x2c: // ,
        case 0x3b: // ;
        case 0x09:
        case 0x0d:
        case 0x0a:
          if (!space) {
            b[d++] = 0x20;
            space = true;
          }
          break;
        case 0x2f: // /
        case 0x28: // (
          if (space) d--;
          space = false;
          b[d++] = c;
          break;
        default:
          b[d++] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
          space = false;
      }
    }
    const out = fromBytes(b, d);
    return out === input ? input : out;
  },
};
