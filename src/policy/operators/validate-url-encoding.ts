/**
 * @validateUrlEncoding — matches (invalid) when a '%' is not followed by two hex digits, including a '%'
 * in the last two positions, as ModSecurity v2's validate_url_encoding().
 */
import type { OperatorSpec } from '../types.js';

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

export function urlEncodingIsInvalid(value: string): boolean {
  const n = value.length;
  let i = 0;
  while (i < n) {
    if (value.charCodeAt(i) !== 0x25) { i++; continue; }
    if (i + 2 >= n) return true; // not enough bytes
    if (!isHex(value.charCodeAt(i + 1)) || !isHex(value.charCodeAt(i + 2))) return true;
    i += 3;
  }
  return false;
}

/** Only a '%' can be invalid: the value filter skips values without one. */
const PERCENT: readonly Uint32Array[] = [Uint32Array.of(0, 1 << (0x25 & 31), 0, 0, 0, 0, 0, 0)];

export const validateUrlEncoding: OperatorSpec = {
  name: 'validateUrlEncoding',
  create() {
    return { evaluate: (_otx, value) => urlEncodingIsInvalid(value), requiredBytes: PERCENT };
  },
};
