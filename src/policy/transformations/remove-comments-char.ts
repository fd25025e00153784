import type { TransformationSpec } from '../types.js';
import { fromBytes, toCBytes } from './byte-string.js';
import { sameBytes } from './byte-preimage.js';

/** Port of v2 removeCommentsChar: deletes the markers /* *\/ <!-- --> -- and #, not the text between. */
export const removeCommentsChar: TransformationSpec = {
  name: 'removeCommentsChar',
  // Only removes bytes.
  preimage: sameBytes,
  transform(input) {
    if (input.indexOf('/*') === -1 && input.indexOf('*/') === -1 && input.indexOf('<!--') === -1 && input.indexOf('--') === -1 && input.indexOf('#') === -1) {
      return input;
    }
    const b = toCBytes(input);
    const n = input.length;
    let i = 0;
    let d = 0;
    while (i < n) {
      const c = b[i]!;
      const c1 = i + 1 < n ? b[i + 1] : -1;
      if (c === 0x2f && c1 === 0x2a) i += 2;
      else if (c === 0x2a && c1 === 0x2f) i += 2;
      else if (c === 0x3c && c1 === 0x21 && i + 3 < n && b[i + 2] === 0x2d && b[i + 3] === 0x2d) i += 4;
      else if (c === 0x2d && c1 === 0x2d && i + 2 < n && b[i + 2] === 0x3e) i += 3;
      else if (c === 0x2d && c1 === 0x2d) i += 2;
      else if (c === 0x23) i++;
      else b[d++] = b[i++]!;
    }
    return fromBytes(b, d);
  },
};
