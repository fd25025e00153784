/**
 * @containsWord — the parameter occurs in the value with a non-word character (not [A-Za-z0-9_]) or the
 * value's edge on both sides. An empty parameter always matches (ModSecurity v2).
 */
import { stringOperator } from './string-operator.js';

function isWordByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

export function containsWordTest(value: string, word: string): boolean {
  if (word.length === 0) return true;
  let from = 0;
  for (;;) {
    const i = value.indexOf(word, from);
    if (i < 0) return false;
    const end = i + word.length;
    if ((i === 0 || !isWordByte(value.charCodeAt(i - 1))) && (end === value.length || !isWordByte(value.charCodeAt(end)))) return true;
    from = i + 1;
  }
}

export const containsWord = stringOperator('containsWord', containsWordTest);
