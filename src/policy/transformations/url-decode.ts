import type { TransformationSpec } from '../types.js';
import { fromBytes, isXDigit, toCBytes, x2c } from './byte-string.js';
import { byteSet, whenProduced, withBytes } from './byte-preimage.js';

export interface UrlDecodeResult {
  readonly value: string;
  /** Count of '%' not followed by two hex digits (v2's invalid_count; drives URLENCODED_ERROR). */
  readonly invalid: number;
}

/**
 * Port of v2 urldecode_nonstrict_inplace_ex(): '+' becomes space, %XY with two hex digits is
 * decoded, any other '%' is kept as is and counted as invalid.
 */
export function urlDecodeNonStrict(input: string): UrlDecodeResult {
  if (input.indexOf('%') === -1 && input.indexOf('+') === -1) return { value: input, invalid: 0 };
  const b = toCBytes(input);
  const n = input.length;
  let i = 0;
  let d = 0;
  let invalid = 0;
  while (i < n) {
    const c = b[i]!;
    if (c === 0x25) {
      if (i + 2 < n) {
        const c1 = b[i + 1]!;
        const c2 = b[i + 2]!;
        if (isXDigit(c1) && isXDigit(c2)) {
          b[d++] = x2c(c1, c2);
          i += 3;
        } else {
          b[d++] = b[i++]!;
          invalid++;
        }
      } else {
        b[d++] = b[i++]!;
        invalid++;
      }
    } else {
      b[d++] = c === 0x2b ? 0x20 : c;
      i++;
    }
  }
  return { value: fromBytes(b, d), invalid };
}

export const urlDecode: TransformationSpec = {
  name: 'urlDecode',
  // Any byte from %XX, a space from '+', every other byte copied.
  preimage: (s) => whenProduced(withBytes(s, [0x25]), 0x20, [0x2b]),
  // The identity without '%' and '+'.
  triggers: byteSet([0x25, 0x2b]),
  transform: (input) => urlDecodeNonStrict(input).value,
};
