import type { TransformationSpec } from '../types.js';
import { NBSP, fromBytes, isSpace, toCBytes } from './byte-string.js';
import { byteSet, sameBytes, whenProduced } from './byte-preimage.js';

/**
 * Port of v2 compressWhitespace: every run of C-locale whitespace or NBSP (0xA0), including a run
 * of one, becomes a single space ' '.
 */
export const compressWhitespace: TransformationSpec = {
  name: 'compressWhitespace',
  // Bytes are copied or dropped; a space stands for a whitespace run.
  preimage: (s) => whenProduced(sameBytes(s), 0x20, [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, NBSP]),
  // The identity without whitespace (a lone space stays a space).
  triggers: byteSet([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, NBSP]),
  transform(input) {
    let needed = false;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c !== 0x20 && (isSpace(c) || c === NBSP)) {
        needed = true;
        break;
      }
      if (c === 0x20 && i + 1 < input.length) {
        const next = input.charCodeAt(i + 1);
        if (isSpace(next) || next === NBSP) {
          needed = true;
          break;
        }
      }
    }
    if (!needed) return input;
    const b = toCBytes(input);
    let d = 0;
    let count = 0;
    for (let i = 0; i < input.length; i++) {
      const c = b[i]!;
      if (isSpace(c) || c === NBSP) {
        count++;
      } else {
        if (count) {
          b[d++] = 0x20;
          count = 0;
        }
        b[d++] = c;
      }
    }
    if (count) b[d++] = 0x20;
    return fromBytes(b, d);
  },
};
