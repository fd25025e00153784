import type { TransformationSpec } from '../types.js';
import { fromBytes, toCBytes } from './byte-string.js';
import { ASCII_UPPER, addAsciiUpperSources, byteSet, sameBytes } from './byte-preimage.js';

/** v2 lowercases with C tolower() in the "C" locale: only A-Z, never bytes >= 0x80. */
export const lowercase: TransformationSpec = {
  name: 'lowercase',
  preimage: (s) => addAsciiUpperSources(sameBytes(s), s),
  // Only A-Z change.
  triggers: byteSet(ASCII_UPPER),
  transform(input) {
    // String#toLowerCase would also fold latin1 capitals (0xC0-0xDE); v2 leaves them alone.
    return LATIN1_CAPITAL.test(input) ? lowerAsciiOnly(input) : input.toLowerCase();
  },
};

const LATIN1_CAPITAL = /[\xc0-\xde]/;

function lowerAsciiOnly(input: string): string {
  const buf = toCBytes(input);
  for (let i = 0; i < input.length; i++) {
    const c = buf[i]!;
    if (c >= 0x41 && c <= 0x5a) buf[i] = c + 0x20;
  }
  return fromBytes(buf, input.length);
}
