import type { TransformationSpec } from '../types.js';
import { fromBytes, toCBytes } from './byte-string.js';

/** `t:uppercase` (libmodsecurity v3; CRS v4 may use it): a-z only, like C toupper(). */
export const uppercase: TransformationSpec = {
  name: 'uppercase',
  transform(input) {
    let lower = false;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c >= 0x61 && c <= 0x7a) lower = true;
      // String#toUpperCase also maps latin1 letters (and even leaves the byte range: ÿ, µ, ß).
      else if (c >= 0x80) return upperAsciiOnly(input);
    }
    return lower ? input.toUpperCase() : input;
  },
};

function upperAsciiOnly(input: string): string {
  const buf = toCBytes(input);
  for (let i = 0; i < input.length; i++) {
    const c = buf[i]!;
    if (c >= 0x61 && c <= 0x7a) buf[i] = c - 0x20;
  }
  return fromBytes(buf, input.length);
}
