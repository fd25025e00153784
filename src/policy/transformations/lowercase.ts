import type { TransformationSpec } from '../types.js';

/** v2 lowercases with C tolower() in the "C" locale: only A-Z, never bytes >= 0x80. */
export const lowercase: TransformationSpec = {
  name: 'lowercase',
  transform(input) {
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      // String#toLowerCase would also fold latin1 letters such as 0xC0; only take it when ASCII-safe.
      if (c >= 0x41 && c <= 0x5a) return lowerAscii(input);
    }
    return input;
  },
};

function lowerAscii(input: string): string {
  const buf = Buffer.from(input, 'latin1');
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c >= 0x41 && c <= 0x5a) buf[i] = c + 0x20;
  }
  return buf.toString('latin1');
}
