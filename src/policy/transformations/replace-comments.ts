import type { TransformationSpec } from '../types.js';
import { fromBytes, toCBytes } from './byte-string.js';
import { sameBytes, whenProduced } from './byte-preimage.js';

/**
 * Port of v2 replaceComments: each C comment becomes one space; an unterminated comment also
 * becomes one space. A stray closing marker is left alone.
 */
export const replaceComments: TransformationSpec = {
  name: 'replaceComments',
  // Bytes are copied or dropped; a space stands for a comment, which starts with '/'.
  preimage: (s) => whenProduced(sameBytes(s), 0x20, [0x2f]),
  transform(input) {
    if (input.indexOf('/*') === -1) return input;
    const b = toCBytes(input);
    const n = input.length;
    let i = 0;
    let d = 0;
    let inComment = false;
    while (i < n) {
      if (!inComment) {
        if (b[i] === 0x2f && i + 1 < n && b[i + 1] === 0x2a) {
          inComment = true;
          i += 2;
        } else {
          b[d++] = b[i++]!;
        }
      } else if (b[i] === 0x2a && i + 1 < n && b[i + 1] === 0x2f) {
        inComment = false;
        i += 2;
        b[d++] = 0x20;
      } else {
        i++;
      }
    }
    if (inComment) b[d++] = 0x20;
    return fromBytes(b, d);
  },
};
