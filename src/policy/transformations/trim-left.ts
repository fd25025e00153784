import type { TransformationSpec } from '../types.js';
import { isSpace } from './byte-string.js';
import { sameBytes } from './byte-preimage.js';

/** Removes leading C-locale whitespace (NBSP is not whitespace here, as in v2). */
export function trimLeftBytes(input: string): string {
  let i = 0;
  while (i < input.length && isSpace(input.charCodeAt(i))) i++;
  return i === 0 ? input : input.slice(i);
}

export const trimLeft: TransformationSpec = { name: 'trimLeft', transform: trimLeftBytes, preimage: sameBytes };
