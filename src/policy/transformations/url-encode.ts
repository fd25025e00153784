import type { TransformationSpec } from '../types.js';

const HEX = '0123456789abcdef';

/** Port of v2 url_encode(): keeps '*', 0-9, A-Z, a-z; space becomes '+'; the rest %xx (lower-case). */
export const urlEncode: TransformationSpec = {
  name: 'urlEncode',
  transform(input) {
    let out = '';
    let start = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c === 0x2a || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) continue;
      out += input.slice(start, i);
      out += c === 0x20 ? '+' : '%' + HEX[c >> 4]! + HEX[c & 0x0f]!;
      start = i + 1;
    }
    return start === 0 ? input : out + input.slice(start);
  },
};
