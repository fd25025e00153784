import type { TransformationSpec } from '../types.js';
import { fromBytes, workBuffer } from './byte-string.js';

const REVERSE = new Int8Array(256).fill(-2);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((ch, i) => {
  REVERSE[ch.charCodeAt(0)] = i;
});

/**
 * Port of v2 decode_base64_ext(): forgiving decoding that skips every byte outside the alphabet,
 * stops at a NUL byte, and gives the empty string when a '=' that is not followed by another '='
 * comes after a lone sextet (i % 4 == 1).
 */
export const base64DecodeExt: TransformationSpec = {
  name: 'base64DecodeExt',
  transform(input) {
    const out = workBuffer(input.length); // every byte is assigned before it is OR-ed (see the switch)
    let i = 0;
    let j = 0;
    for (let p = 0; p < input.length; p++) {
      const ch = input.charCodeAt(p);
      if (ch === 0) break;
      if (ch === 0x3d) {
        const next = p + 1 < input.length ? input.charCodeAt(p + 1) : 0;
        if (next !== 0x3d && i % 4 === 1) return '';
        continue;
      }
      const v = REVERSE[ch]!;
      if (v < 0) continue;
      switch (i % 4) {
        case 0:
          out[j] = (v << 2) & 0xff;
          break;
        case 1:
          out[j++]! |= v >> 4;
          out[j] = ((v & 0x0f) << 4) & 0xff;
          break;
        case 2:
          out[j++]! |= v >> 2;
          out[j] = ((v & 0x03) << 6) & 0xff;
          break;
        default:
          out[j++]! |= v;
      }
      i++;
    }
    return fromBytes(out, j);
  },
};
