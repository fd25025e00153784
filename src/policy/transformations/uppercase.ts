import type { TransformationSpec } from '../types.js';

/** `t:uppercase` (libmodsecurity v3; CRS v4 may use it): a-z only, like C toupper(). */
export const uppercase: TransformationSpec = {
  name: 'uppercase',
  transform(input) {
    let i = 0;
    for (; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c >= 0x61 && c <= 0x7a) break;
    }
    if (i === input.length) return input;
    const buf = Buffer.from(input, 'latin1');
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c >= 0x61 && c <= 0x7a) buf[i] = c - 0x20;
    }
    return buf.toString('latin1');
  },
};
