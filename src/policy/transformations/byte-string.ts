/**
 * Byte-level helpers shared by the transformations. ModSecurity v2 runs its transformations in
 * place on NUL-terminated C buffers in the "C" locale; porting them onto a Buffer with one extra
 * NUL byte at the end keeps every look-ahead (`input[i + 1]` at the last byte) identical to v2.
 */

/**
 * Transformations run synchronously and never nest, so one scratch buffer serves them all and the
 * per-request path allocates nothing but the result string. Buffers above RETAIN_LIMIT are not
 * kept, so one huge value does not pin memory.
 */
const RETAIN_LIMIT = 64 * 1024;
let scratch: Buffer = Buffer.allocUnsafeSlow(4096);

/** A work buffer of at least `size` bytes (contents undefined); valid until the next call. */
export function workBuffer(size: number): Buffer {
  if (size <= scratch.length) return scratch;
  const fresh = Buffer.allocUnsafeSlow(Math.max(size, scratch.length * 2));
  if (fresh.length <= RETAIN_LIMIT) scratch = fresh;
  return fresh;
}

/**
 * Latin-1 bytes of `input` plus a trailing NUL, as v2's apr_pstrmemdup would hand a tfn, in the
 * shared work buffer.
 */
export function toCBytes(input: string): Buffer {
  const n = input.length;
  const buf = workBuffer(n + 1);
  if (n > 64) buf.write(input, 0, 'latin1');
  else for (let i = 0; i < n; i++) buf[i] = input.charCodeAt(i);
  buf[n] = 0;
  return buf;
}

/** The first `length` bytes of `buf` as a byte string (copied). */
export function fromBytes(buf: Uint8Array, length: number): string {
  if (buf instanceof Buffer) return buf.toString('latin1', 0, length);
  return Buffer.from(buf.buffer, buf.byteOffset, length).toString('latin1');
}

/** C isspace() in the "C" locale: space, \t, \n, \v, \f, \r. */
export function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** C isxdigit() / v2's VALID_HEX(). */
export function isXDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

export function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

export function isOctDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

/** C tolower() in the "C" locale: only A-Z change. */
export function toLowerByte(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/**
 * v2's xsingle2c(): one hex digit to its value. It does not validate, so non-hex bytes produce the
 * same wrapped unsigned-char garbage as v2 (callers such as hexDecode rely on that).
 */
export function hexDigitLoose(c: number): number {
  return (c >= 0x41 ? (c & 0xdf) - 0x41 + 10 : c - 0x30) & 0xff;
}

/** v2's x2c(): two (unvalidated) hex digits to one byte, with unsigned-char wrap-around. */
export function x2c(a: number, b: number): number {
  return (hexDigitLoose(a) * 16 + hexDigitLoose(b)) & 0xff;
}

/** Non-breaking space in ISO-8859-1; v2's whitespace transformations treat it as space (NBSP). */
export const NBSP = 0xa0;
