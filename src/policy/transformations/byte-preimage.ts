/**
 * Building blocks for TransformationSpec.preimage: which input bytes an output byte can come from.
 * Each transformation states its own rule next to its code; these helpers keep those one-liners.
 * A byte set is 8 words, bit b = byte b (the layout of regex/pcre-syntax.ts ByteSet.words).
 */

export function hasByte(set: Uint32Array, b: number): boolean {
  return (set[b >>> 5]! & (1 << (b & 31))) !== 0;
}

export function addByte(set: Uint32Array, b: number): void {
  set[b >>> 5]! |= 1 << (b & 31);
}

/** The output holds only bytes of the input (deletions, reordering): P = S. */
export function sameBytes(s: Uint32Array): Uint32Array {
  return Uint32Array.from(s);
}

/** P = S plus `extra` (bytes whose presence makes the transformation do anything at all). */
export function withBytes(s: Uint32Array, extra: readonly number[]): Uint32Array {
  const p = Uint32Array.from(s);
  for (const b of extra) addByte(p, b);
  return p;
}

/** P = S plus `from` when S holds `produced` (the transformation writes `produced` for bytes of `from`). */
export function whenProduced(p: Uint32Array, produced: number, from: readonly number[]): Uint32Array {
  if (hasByte(p, produced)) for (const b of from) addByte(p, b);
  return p;
}

/** ASCII lower-casing: an output a–z may come from the input's A–Z. */
export function addAsciiUpperSources(p: Uint32Array, s: Uint32Array): Uint32Array {
  for (let b = 0x61; b <= 0x7a; b++) if (hasByte(s, b)) addByte(p, b - 0x20);
  return p;
}

/** A byte set holding `bytes` (for TransformationSpec.triggers). */
export function byteSet(bytes: readonly number[]): Uint32Array {
  const set = new Uint32Array(8);
  for (const b of bytes) addByte(set, b);
  return set;
}

/** ASCII A–Z. */
export const ASCII_UPPER: readonly number[] = Array.from({ length: 26 }, (_, i) => 0x41 + i);

/** Every byte 0x80–0xFF. */
export const HIGH_BYTES: readonly number[] = Array.from({ length: 128 }, (_, i) => 0x80 + i);
