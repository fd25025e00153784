/**
 * @validateByteRange — matches when the value holds a byte outside the allowed set, given as
 * comma-separated values and ranges ("1-255", "9,10,13,32-126"). Parsing follows ModSecurity v2 (atoi on
 * each part); values outside 0..255 or a reversed range are load errors.
 */
import type { OperatorSpec } from '../types.js';
import { cAtoi } from './c-numbers.js';

export function parseByteRanges(param: string): Uint8Array {
  const allowed = new Uint8Array(256);
  const parts = param.split(',').filter((p) => p !== '');
  if (param.trim() === '') throw new Error('missing parameter for validateByteRange');
  for (const p of parts) {
    const dash = p.indexOf('-');
    if (dash < 0) {
      const x = cAtoi(p);
      if (x < 0 || x > 255) throw new Error(`invalid range value: ${x}`);
      allowed[x] = 1;
      continue;
    }
    const start = cAtoi(p), end = cAtoi(p.slice(dash + 1));
    if (start < 0 || start > 255) throw new Error(`invalid range start value: ${start}`);
    if (end < 0 || end > 255) throw new Error(`invalid range end value: ${end}`);
    if (start > end) throw new Error(`invalid range: ${start}-${end}`);
    for (let b = start; b <= end; b++) allowed[b] = 1;
  }
  return allowed;
}

/** The bytes outside `allowed`, as a byte set (8 words): a match holds one of them. */
export function disallowedBytes(allowed: Uint8Array): Uint32Array {
  const set = new Uint32Array(8);
  for (let b = 0; b < 256; b++) if (allowed[b] !== 1) set[b >>> 5]! |= 1 << (b & 31);
  return set;
}

export const validateByteRange: OperatorSpec = {
  name: 'validateByteRange',
  create(param) {
    const allowed = parseByteRanges(param);
    return {
      evaluate(_otx, value) {
        for (let i = 0; i < value.length; i++) {
          const c = value.charCodeAt(i);
          if (c > 255 || allowed[c] !== 1) return true;
        }
        return false;
      },
      // A value matches only by holding a byte outside the ranges (CRS 920270 "1-255": a NUL), so the
      // engine's value filter skips the others before transforming them (through urlDecodeUni: values
      // without NUL or '%'). A char above 0xFF sets every bit of a value's bitmap, so it is never skipped.
      requiredBytes: [disallowedBytes(allowed)],
    };
  },
};
