/**
 * C-library number parsing as ModSecurity v2 uses it for @eq/@ge/@gt/@le/@lt and friends:
 * atoi(s) on glibc is (int) strtol(s, NULL, 10) — leading isspace() skipped, an optional sign, decimal
 * digits up to the first non-digit (or NUL); no digits gives 0; a value beyond the range of `long`
 * (64-bit) clamps to LONG_MIN/LONG_MAX, and the cast to int keeps the low 32 bits.
 */
const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

export function cAtoi(s: string): number {
  let i = 0;
  const n = s.length;
  while (i < n && isCSpace(s.charCodeAt(i))) i++;
  let negative = false;
  const sign = s.charCodeAt(i);
  if (sign === 0x2b || sign === 0x2d) { negative = sign === 0x2d; i++; }
  const start = i;
  while (i < n) { const c = s.charCodeAt(i); if (c < 0x30 || c > 0x39) break; i++; }
  if (i === start) return 0;
  const digits = s.slice(start, i);
  if (digits.length <= 9) {
    const v = Number(digits);
    return negative ? -v : v;
  }
  let v = BigInt(digits);
  if (negative) v = -v;
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < LONG_MIN) v = LONG_MIN;
  return Number(BigInt.asIntN(32, v));
}
