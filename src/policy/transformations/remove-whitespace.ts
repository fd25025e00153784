import type { TransformationSpec } from '../types.js';
import { NBSP, fromBytes, isSpace, toCBytes } from './byte-string.js';
import { byteSet, sameBytes } from './byte-preimage.js';

/** Removes C-locale whitespace and the latin1 non-breaking space (0xA0), as v2 does. */
export const removeWhitespace: TransformationSpec = {
  name: 'removeWhitespace',
  preimage: sameBytes,
  triggers: byteSet([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, NBSP]),
  transform(input) {
    let i = 0;
    for (; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (isSpace(c) || c === NBSP) break;
    }
    if (i === input.length) return input;
    const b = toCBytes(input);
    let d = i;
    for (; i < input.length; i++) {
      const c = b[i]!;
      if (!(isSpace(c) || c === NBSP)) b[d++] = c;
    }
    return fromBytes(b, d);
  },
};
