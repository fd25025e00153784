import type { TransformationSpec } from '../types.js';
import { NBSP, fromBytes, isAlnum, isDigit, isXDigit, toCBytes } from './byte-string.js';
import { byteSet, withBytes } from './byte-preimage.js';

/**
 * Port of v2 html_entities_decode_inplace(). Numeric entities (&#DDD; &#xHH;) with or without the
 * semicolon become one byte (the low byte of the number, as `(unsigned char)strtol()` gives);
 * only quot, amp, lt, gt and nbsp are known by name (case-insensitive); anything else is copied.
 */
export const htmlEntityDecode: TransformationSpec = {
  name: 'htmlEntityDecode',
  // The identity without '&'.
  preimage: (s) => withBytes(s, [0x26]),
  triggers: byteSet([0x26]),
  // Most '&' in request data separate arguments ("a=1&b=2"): when none starts an entity the decoder
  // would decode, the output is the input (checked without copying it to bytes).
  transform: (input) => (decodesAny(input) ? decodeEntities(input) : input),
};

/** The port itself, without the shortcut (exported for the test that checks the shortcut). */
export function decodeEntities(input: string): string {
  const b = toCBytes(input);
  const n = input.length;
  let i = 0;
  let d = 0;
  let count = 0;
  outer: while (i < n && count < n) {
    let copy = 1;
    if (b[i] === 0x26 && i + 1 < n) {
      let j = i + 1;
      if (b[j] === 0x23) {
        copy++;
        if (j + 1 < n) {
          j++;
          if (b[j] === 0x78 || b[j] === 0x58) {
            copy++;
            if (j + 1 < n) {
              j++;
              const k = j;
              while (j < n && isXDigit(b[j]!)) j++;
              if (j > k) {
                b[d++] = strtolLowByte(b, k, j, 16);
                count++;
                i = j < n && b[j] === 0x3b ? j + 1 : j;
                continue outer;
              }
            }
          } else {
            const k = j;
            while (j < n && isDigit(b[j]!)) j++;
            if (j > k) {
              b[d++] = strtolLowByte(b, k, j, 10);
              count++;
              i = j < n && b[j] === 0x3b ? j + 1 : j;
              continue outer;
            }
          }
        }
      } else {
        const k = j;
        while (j < n && isAlnum(b[j]!)) j++;
        if (j > k) {
          const name = fromBytes(b.subarray(k, j), j - k).toLowerCase();
          const value = NAMED.get(name);
          if (value !== undefined) {
            b[d++] = value;
            count++;
            i = j < n && b[j] === 0x3b ? j + 1 : j;
            continue outer;
          }
          // Unknown entity: copy '&' and the name as they are.
          copy = j - k + 1;
        }
      }
    }
    for (let z = 0; z < copy && count < n; z++) {
      b[d++] = b[i++]!;
      count++;
    }
  }
  return d === n ? input : fromBytes(b, d);
}

/** A Map, not an object: "&constructor" or "&toString" must not find Object.prototype members. */
const NAMED: ReadonlyMap<string, number> = new Map([['quot', 0x22], ['amp', 0x26], ['lt', 0x3c], ['gt', 0x3e], ['nbsp', NBSP]]);
const LONGEST_NAME = 4;

/**
 * True when some '&' of `input` starts what transform() decodes: "&#" + a digit, "&#x"/"&#X" + a hex
 * digit, or a known name. Every '&' is looked at where it stands (the decoder copies "&#", "&#x" and
 * unknown "&name" runs, none of which holds another '&'), so false means the output is the input.
 */
function decodesAny(input: string): boolean {
  const n = input.length;
  for (let i = input.indexOf('&'); i !== -1 && i + 1 < n; i = input.indexOf('&', i + 1)) {
    const c = input.charCodeAt(i + 1);
    if (c === 0x23) {
      if (i + 2 >= n) continue;
      const e = input.charCodeAt(i + 2);
      if (e === 0x78 || e === 0x58) {
        if (i + 3 < n && isXDigit(input.charCodeAt(i + 3))) return true;
      } else if (isDigit(e)) {
        return true;
      }
      continue;
    }
    let j = i + 1;
    while (j < n && j - i - 1 <= LONGEST_NAME && isAlnum(input.charCodeAt(j))) j++;
    const len = j - i - 1;
    // A run longer than any name is no name (the decoder reads the whole run).
    if (len > 0 && len <= LONGEST_NAME && (j === n || !isAlnum(input.charCodeAt(j))) && NAMED.has(input.slice(i + 1, j).toLowerCase())) return true;
  }
  return false;
}

/**
 * `(unsigned char)strtol(digits, NULL, base)` on a 64-bit long: the low byte of the value, or of
 * LONG_MAX (0xff) when the number overflows.
 */
function strtolLowByte(b: Uint8Array, start: number, end: number, base: 10 | 16): number {
  // Leading zeros never overflow; skip them so long zero runs stay cheap.
  while (start < end - 1 && b[start] === 0x30) start++;
  const digits = end - start;
  const safeDigits = base === 16 ? 13 : 15;
  if (digits <= safeDigits) {
    let v = 0;
    for (let p = start; p < end; p++) v = v * base + hexValue(b[p]!);
    return v % 256;
  }
  let v = 0n;
  const big = BigInt(base);
  for (let p = start; p < end; p++) {
    v = v * big + BigInt(hexValue(b[p]!));
    if (v > LONG_MAX) return 0xff;
  }
  return Number(v & 0xffn);
}

const LONG_MAX = 0x7fffffffffffffffn;

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}
