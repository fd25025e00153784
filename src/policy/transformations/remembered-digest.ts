/**
 * sha1 / md5 as transformations: the binary digest as a byte string (v2 returns raw bytes, not hex).
 *
 * CRS hashes the User-Agent of every request (901318: t:sha1,t:hexEncode for the IP collection key), and
 * the same browsers come back, so recent digests of short inputs are remembered: a digest is a pure
 * function of its input. The one-shot crypto.hash() avoids createHash()'s object set-up (≈ 4 µs
 * instead of ≈ 18 µs per call, measured on the reference VM).
 */
import { hash } from 'node:crypto';

/** Inputs up to this length are remembered, at most MAX_REMEMBERED per algorithm (cleared when full). */
const MAX_REMEMBERED_INPUT = 1024;
const MAX_REMEMBERED = 1024;

export function rememberedDigest(algorithm: 'sha1' | 'md5'): (input: string) => string {
  const recent = new Map<string, string>();
  return (input) => {
    const short = input.length <= MAX_REMEMBERED_INPUT;
    if (short) {
      const known = recent.get(input);
      if (known !== undefined) return known;
    }
    const out = hash(algorithm, Buffer.from(input, 'latin1'), 'buffer').toString('latin1');
    if (short) {
      if (recent.size >= MAX_REMEMBERED) recent.clear();
      recent.set(input, out);
    }
    return out;
  };
}
