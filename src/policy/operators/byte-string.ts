/**
 * Operator parameters come from rule files read as UTF-8 text; ModSecurity v2 compares their bytes with the
 * request's bytes. A constant parameter is therefore turned into its UTF-8 byte string (one char per byte)
 * before it is compared with values, which are byte strings (see ../types.ts).
 */
export function utf8Bytes(text: string): string {
  // Fast path: ASCII text is its own byte string.
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, 'utf8').toString('latin1');
  }
  return text;
}
