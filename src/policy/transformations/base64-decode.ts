import type { TransformationSpec } from '../types.js';
import { fromBytes, workBuffer } from './byte-string.js';

/** APR's pr2six table: 0..63 for the standard alphabet, 64 for everything else ('=' included). */
const PR2SIX = new Uint8Array(256).fill(64);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((ch, i) => {
  PR2SIX[ch.charCodeAt(0)] = i;
});

/**
 * Port of apr_base64_decode() as v2's base64Decode uses it: decodes the longest prefix made of
 * base64 alphabet bytes and stops at the first other byte ('=', whitespace, anything). A leftover
 * single character is ignored. Nothing decodable gives the empty string.
 */
export const base64Decode: TransformationSpec = {
  name: 'base64Decode',
  transform(input) {
    let nprbytes = 0;
    while (nprbytes < input.length && PR2SIX[input.charCodeAt(nprbytes)]! <= 63) nprbytes++;
    // The shared work buffer, not a new Uint8Array: CRS 934100 decodes every cookie and argument value,
    // and the allocation plus Buffer wrapper cost more than the decoding (≈ 5 → 2-3 µs per 32-byte
    // session id inside a transaction, median).
    const out = workBuffer(Math.floor((nprbytes + 3) / 4) * 3);
    let o = 0;
    let p = 0;
    const v = (k: number): number => PR2SIX[input.charCodeAt(k)]!;
    let left = nprbytes;
    while (left > 4) {
      out[o++] = ((v(p) << 2) | (v(p + 1) >> 4)) & 0xff;
      out[o++] = ((v(p + 1) << 4) | (v(p + 2) >> 2)) & 0xff;
      out[o++] = ((v(p + 2) << 6) | v(p + 3)) & 0xff;
      p += 4;
      left -= 4;
    }
    if (left > 1) out[o++] = ((v(p) << 2) | (v(p + 1) >> 4)) & 0xff;
    if (left > 2) out[o++] = ((v(p + 1) << 4) | (v(p + 2) >> 2)) & 0xff;
    if (left > 3) out[o++] = ((v(p + 2) << 6) | v(p + 3)) & 0xff;
    return fromBytes(out, o);
  },
};
