import type { TransformationSpec } from '../types.js';
import { fromBytes, toCBytes } from './byte-string.js';
import { withBytes } from './byte-preimage.js';

/**
 * Port of v2 removeComments, quirks included: C comments and HTML comments are removed; "--" or
 * "#" outside a comment ends the value there; after a closing marker v2 copies the next byte
 * without inspecting it (a NUL when the marker ends the input); an unterminated comment becomes one
 * space.
 */
export const removeComments: TransformationSpec = {
  name: 'removeComments',
  // The identity unless the input holds a comment start: any output then needs one of these bytes.
  preimage: (s) => withBytes(s, [0x2f, 0x3c, 0x2d, 0x23]),
  transform(input) {
    if (input.indexOf('/*') === -1 && input.indexOf('<!--') === -1 && input.indexOf('--') === -1 && input.indexOf('#') === -1) {
      return input;
    }
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
        } else if (b[i] === 0x3c && i + 3 < n && b[i + 1] === 0x21 && b[i + 2] === 0x2d && b[i + 3] === 0x2d) {
          inComment = true;
          i += 4;
        } else if (b[i] === 0x2d && i + 1 < n && b[i + 1] === 0x2d) {
          break;
        } else if (b[i] === 0x23) {
          break;
        } else {
          b[d++] = b[i++]!;
        }
      } else if (b[i] === 0x2a && i + 1 < n && b[i + 1] === 0x2f) {
        inComment = false;
        i += 2;
        b[d++] = b[i]!;
        i++;
      } else if (b[i] === 0x2d && i + 2 < n && b[i + 1] === 0x2d && b[i + 2] === 0x3e) {
        inComment = false;
        i += 3;
        b[d++] = b[i]!;
        i++;
      } else {
        i++;
      }
    }
    if (inComment) b[d++] = 0x20;
    return fromBytes(b, d);
  },
};
