import type { TransformationSpec } from '../types.js';
import { fromBytes, isXDigit, toCBytes, x2c } from './byte-string.js';
import { byteSet, whenProduced, withBytes } from './byte-preimage.js';

/**
 * A SecUnicodeMapFile table for one code page: index = Unicode code point (0..65535),
 * value = the byte to use, or -1 when the code point is not mapped.
 */
export type UnicodeMap = Int16Array;

/**
 * Parses ModSecurity's unicode.mapping file for `codePage` (e.g. 20127), as SecUnicodeMapFile does:
 * a line holding the code page number starts a section of "hhhh:hh" pairs.
 */
export function parseUnicodeMapping(text: string, codePage: number): UnicodeMap {
  const map = new Int16Array(65536).fill(-1);
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (/^\d+(\s|$)/.test(line)) {
      inSection = Number.parseInt(line, 10) === codePage;
      continue;
    }
    if (!inSection) continue;
    for (const pair of line.split(/\s+/)) {
      const m = /^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,2})$/.exec(pair);
      if (m) map[Number.parseInt(m[1]!, 16)] = Number.parseInt(m[2]!, 16);
    }
  }
  return map;
}

/**
 * Port of v2 urldecode_uni_nonstrict_inplace_ex(). %uXXXX becomes one byte: the mapped byte when a
 * unicode map is configured and has the code point, otherwise the low byte, with v2's full-width
 * ASCII fix-up (%uFF01-%uFF5E become 0x21-0x7E). Invalid escapes are kept as they are.
 */
export function urlDecodeUniWith(input: string, map: UnicodeMap | null): string {
  if (input.indexOf('%') === -1 && input.indexOf('+') === -1) return input;
  const b = toCBytes(input);
  const n = input.length;
  let i = 0;
  let d = 0;
  while (i < n) {
    const c = b[i]!;
    if (c === 0x25) {
      const u = b[i + 1]!;
      if (i + 1 < n && (u === 0x75 || u === 0x55)) {
        if (i + 5 < n && isXDigit(b[i + 2]!) && isXDigit(b[i + 3]!) && isXDigit(b[i + 4]!) && isXDigit(b[i + 5]!)) {
          let mapped = -1;
          if (map !== null) {
            const code = (x2c(b[i + 2]!, b[i + 3]!) << 8) | x2c(b[i + 4]!, b[i + 5]!);
            mapped = map[code]!;
          }
          if (mapped !== -1) {
            b[d] = mapped & 0xff;
          } else {
            let v = x2c(b[i + 4]!, b[i + 5]!);
            const h1 = b[i + 2]!;
            const h2 = b[i + 3]!;
            if (v > 0x00 && v < 0x5f && (h1 === 0x66 || h1 === 0x46) && (h2 === 0x66 || h2 === 0x46)) v += 0x20;
            b[d] = v;
          }
          d++;
          i += 6;
        } else {
          // Invalid or truncated %u: keep "%u" and go on after it.
          b[d++] = b[i++]!;
          b[d++] = b[i++]!;
        }
      } else if (i + 2 < n && isXDigit(b[i + 1]!) && isXDigit(b[i + 2]!)) {
        b[d++] = x2c(b[i + 1]!, b[i + 2]!);
        i += 3;
      } else {
        b[d++] = b[i++]!;
      }
    } else {
      b[d++] = c === 0x2b ? 0x20 : c;
      i++;
    }
  }
  return fromBytes(b, d);
}

/** Builds a urlDecodeUni bound to a SecUnicodeMapFile table (the engine does this when configured). */
export function createUrlDecodeUni(map: UnicodeMap | null): TransformationSpec {
  return {
    name: 'urlDecodeUni',
    transform: (input) => urlDecodeUniWith(input, map),
    // Any byte from %XX / %uXXXX, a space from '+', every other byte copied.
    preimage: (s) => whenProduced(withBytes(s, [0x25]), 0x20, [0x2b]),
    // The identity without '%' and '+'.
    triggers: byteSet([0x25, 0x2b]),
  };
}

/** Without SecUnicodeMapFile (the Debian default) v2 keeps the low byte of %uXXXX. */
export const urlDecodeUni: TransformationSpec = createUrlDecodeUni(null);
