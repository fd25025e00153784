import { fromBytes, toCBytes } from './byte-string.js';

/**
 * Applies `f(byte, oddParity)` to every byte, where oddParity is v2's (0x6996 >> nibble-fold) & 1
 * test: true when the byte (all 8 bits) has an odd number of set bits.
 */
export function mapBytes(input: string, f: (x: number, odd: boolean) => number): string {
  const b = toCBytes(input);
  let changed = false;
  for (let i = 0; i < input.length; i++) {
    const x = b[i]!;
    const folded = (x ^ (x >> 4)) & 0x0f;
    const y = f(x, ((0x6996 >> folded) & 1) === 1);
    if (y !== x) {
      b[i] = y;
      changed = true;
    }
  }
  return changed ? fromBytes(b, input.length) : input;
}
