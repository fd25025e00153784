import type { TransformationSpec } from '../types.js';
import { isSpace } from './byte-string.js';
import { sameBytes } from './byte-preimage.js';

/** Removes trailing C-locale whitespace. */
export function trimRightBytes(input: string): string {
  let i = input.length;
  while (i > 0 && isSpace(input.charCodeAt(i - 1))) i--;
  return i === input.length ? input : input.slice(0, i);
}

export const trimRight: TransformationSpec = { name: 'trimRight', transform: trimRightBytes, preimage: sameBytes };
