import type { TransformationSpec } from '../types.js';
import { HIGH_BYTES, byteSet, withBytes } from './byte-preimage.js';

/**
 * Port of v2 utf8_unicode_inplace_ex(): each valid 2, 3 or 4 byte UTF-8 sequence becomes the text
 * "%uXXXX" (lower-case hex, at least four digits). v2's quirks are kept: an overlong form or a
 * surrogate code point also appends its lead byte after the %u text, a 4-byte lead >= 0xF5 is
 * emitted before decoding, a lead byte with missing or bad continuation bytes is dropped (the
 * continuation bytes are then seen on their own and copied), and NUL bytes are dropped.
 */
export const utf8toUnicode: TransformationSpec = {
  name: 'utf8toUnicode',
  // The identity for ASCII without NUL.
  preimage: (s) => withBytes(s, [0, ...HIGH_BYTES]),
  triggers: byteSet([0, ...HIGH_BYTES]),
  transform(input) {
    let i = 0;
    for (; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c >= 0x80 || c === 0) break;
    }
    if (i === input.length) return input;
    let out = input.slice(0, i);
    const n = input.length;
    const at = (k: number): number => (k < n ? input.charCodeAt(k) : 0);
    while (i < n) {
      const c = input.charCodeAt(i);
      let len = 0;
      let d = 0;
      if ((c & 0x80) === 0) {
        if (c !== 0) out += input[i]!;
      } else if ((c & 0xe0) === 0xc0) {
        if (n - i >= 2 && (at(i + 1) & 0xc0) === 0x80) {
          len = 2;
          d = ((c & 0x1f) << 6) | (at(i + 1) & 0x3f);
          out += unicodeEscape(d);
        }
      } else if ((c & 0xf0) === 0xe0) {
        if (n - i >= 3 && (at(i + 1) & 0xc0) === 0x80 && (at(i + 2) & 0xc0) === 0x80) {
          len = 3;
          d = ((c & 0x0f) << 12) | ((at(i + 1) & 0x3f) << 6) | (at(i + 2) & 0x3f);
          out += unicodeEscape(d);
        }
      } else if ((c & 0xf8) === 0xf0) {
        if (c >= 0xf5) out += input[i]!;
        if (n - i >= 4 && (at(i + 1) & 0xc0) === 0x80 && (at(i + 2) & 0xc0) === 0x80 && (at(i + 3) & 0xc0) === 0x80) {
          len = 4;
          d = ((c & 0x07) << 18) | ((at(i + 1) & 0x3f) << 12) | ((at(i + 2) & 0x3f) << 6) | (at(i + 3) & 0x3f);
          out += unicodeEscape(d);
        }
      } else {
        out += input[i]!;
      }
      if (d >= 0xd800 && d <= 0xdfff) out += input[i]!;
      if ((len === 4 && d < 0x10000) || (len === 3 && d < 0x800) || (len === 2 && d < 0x80)) out += input[i]!;
      i += len > 0 ? len : 1;
    }
    return out;
  },
};

function unicodeEscape(d: number): string {
  return '%u' + d.toString(16).padStart(4, '0');
}
