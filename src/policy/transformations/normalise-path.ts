import type { TransformationSpec } from '../types.js';
import { fromBytes, toCBytes } from './byte-string.js';
import { byteSet, withBytes } from './byte-preimage.js';

/**
 * Port of v2 normalize_path_inplace() (pointer arithmetic turned into indexes): removes "./",
 * resolves "../" without climbing above the root (a relative path keeps leading "../"), collapses
 * repeated slashes and keeps a trailing slash only if the input had one. With `win`, backslashes
 * are first turned into slashes.
 */
export function normalisePathBytes(input: string, win: boolean): string {
  const n = input.length;
  if (n === 0) return input;
  // Without a separator the loop below only acts at the last byte, and only on a '.' there ("." and
  // a trailing ".." after other bytes): anything else comes out unchanged.
  if (input.charCodeAt(n - 1) !== 0x2e && input.indexOf('/') === -1 && (!win || input.indexOf('\\') === -1)) return input;
  return normaliseLoop(input, win);
}

/** The port itself, without the shortcut (exported for the test that checks the shortcut). */
export function normaliseLoop(input: string, win: boolean): string {
  const n = input.length;
  if (n === 0) return input;
  const b = toCBytes(input);
  const end = n - 1;
  let src = 0;
  let dst = 0;
  let hitroot = false;
  let done = false;
  const isSep = (c: number): boolean => c === 0x2f || (win && c === 0x5c);
  const relative = !isSep(b[0]!);
  const trailing = isSep(b[end]!);

  while (!done && src <= end && dst <= end) {
    if (win) {
      if (b[src] === 0x5c) b[src] = 0x2f;
      if (src < end && b[src + 1] === 0x5c) b[src + 1] = 0x2f;
    }
    let skipCopy = false;
    let normalise = true;
    if (src === end) {
      done = true;
    } else if (b[src + 1] !== 0x2f) {
      normalise = false;
    }
    if (normalise) {
      if (src !== end && b[src] === 0x2f) {
        // Empty path segment: the copy below collapses the slashes.
      } else if (b[src] === 0x2e) {
        if (dst > 0 && b[dst - 1] === 0x2e) {
          // Back-reference "..".
          if (relative && (hitroot || dst - 2 <= 0)) {
            hitroot = true;
          } else {
            dst -= 3;
            while (dst > 0 && b[dst] !== 0x2f) dst--;
            if (dst <= 0) {
              hitroot = true;
              dst = 0;
              if (!relative && src === end) dst++;
            }
            if (done) {
              skipCopy = true;
            } else {
              src++;
            }
          }
        } else if (dst === 0) {
          // Relative self-reference "./" at the start.
          if (done) skipCopy = true;
          else src++;
        } else if (b[dst - 1] === 0x2f) {
          // Self-reference "/./".
          if (done) skipCopy = true;
          else {
            dst--;
            src++;
          }
        }
      } else if (dst > 0) {
        hitroot = false;
      }
    }
    if (skipCopy) break;
    // Copy the byte, collapsing repeated slashes to the last one.
    if (b[src] === 0x2f) {
      while (src < end && isSep(b[src + 1]!)) src++;
      if (relative && dst === 0) {
        src++;
        continue;
      }
    }
    b[dst++] = b[src++]!;
  }
  if (!trailing && dst > 0 && b[dst - 1] === 0x2f) dst--;
  const out = fromBytes(b, dst);
  return out === input ? input : out;
}

export const normalisePath: TransformationSpec = {
  name: 'normalisePath',
  // The identity without '/' and '.'.
  preimage: (s) => withBytes(s, [0x2f, 0x2e]),
  triggers: byteSet([0x2f, 0x2e]),
  transform: (input) => normalisePathBytes(input, false),
};
