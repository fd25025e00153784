/**
 * A 32-bit string hash for the consistent-hash ring and sticky-cookie ids: FNV-1a over UTF-16 code
 * units, finished with murmur3's fmix32 so that similar inputs (10.0.0.1, 10.0.0.2) land far apart on
 * the ring. No allocation: it runs once per request on the client's address.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
