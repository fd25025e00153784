/**
 * @validateUtf8Encoding — matches (invalid) on the first byte sequence that is not valid UTF-8 by
 * ModSecurity v2's detect_utf8_character(): truncated sequences, bad continuation bytes, lead bytes
 * 0x80–0xBF and 0xF8–0xFF, 0xF5–0xF7 (beyond U+10FFFF), surrogates, and overlong forms (including C0/C1).
 * v2 computes the 4-byte code point with a typo (`(b2 & 0x3F) < 6` instead of `<< 6`); the overlong and
 * surrogate checks use that value, and so does this port.
 */
import type { OperatorSpec } from '../types.js';

/** Length of the valid character at i, or -1 if invalid. */
function characterLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  const left = s.length - i;
  const cont = (k: number) => (s.charCodeAt(i + k) & 0xc0) === 0x80;
  let len: number, d: number;
  if ((c & 0x80) === 0) return 1;
  if ((c & 0xe0) === 0xc0) {
    if (left < 2 || !cont(1)) return -1;
    len = 2; d = ((c & 0x1f) << 6) | (s.charCodeAt(i + 1) & 0x3f);
  } else if ((c & 0xf0) === 0xe0) {
    if (left < 3 || !cont(1) || !cont(2)) return -1;
    len = 3; d = ((c & 0x0f) << 12) | ((s.charCodeAt(i + 1) & 0x3f) << 6) | (s.charCodeAt(i + 2) & 0x3f);
  } else if ((c & 0xf8) === 0xf0) {
    if (c >= 0xf5) return -1;
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return -1;
    len = 4;
    d = ((c & 0x07) << 18) | ((s.charCodeAt(i + 1) & 0x3f) << 12) | ((s.charCodeAt(i + 2) & 0x3f) < 6 ? 1 : 0) | (s.charCodeAt(i + 3) & 0x3f);
  } else {
    return -1;
  }
  if (d >= 0xd800 && d <= 0xdfff) return -1;
  if ((len === 4 && d < 0x10000) || (len === 3 && d < 0x800) || (len === 2 && d < 0x80)) return -1;
  return len;
}

export function utf8IsInvalid(value: string): boolean {
  for (let i = 0; i < value.length;) {
    if (value.charCodeAt(i) > 0xff) return true; // not a byte string: cannot be judged as UTF-8 bytes
    const n = characterLength(value, i);
    if (n < 0) return true;
    i += n;
  }
  return false;
}

/** ASCII is valid UTF-8: only a byte from 0x80 (or a char above 0xFF) can be invalid. */
const HIGH_BYTES: readonly Uint32Array[] = [Uint32Array.of(0, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)];

export const validateUtf8Encoding: OperatorSpec = {
  name: 'validateUtf8Encoding',
  create() {
    return { evaluate: (_otx, value) => utf8IsInvalid(value), requiredBytes: HIGH_BYTES };
  },
};
