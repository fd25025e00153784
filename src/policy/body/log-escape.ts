/**
 * v2's log_escape_nq(): the form in which v2 quotes request data inside its error messages
 * (REQBODY_ERROR_MSG), so messages read the same as ModSecurity's.
 */
export function logEscapeNq(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x08:
        out += '\\b';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0b:
        out += '\\v';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      default:
        out += c <= 0x1f || c >= 0x7f ? '\\x' + c.toString(16).padStart(2, '0') : text[i]!;
    }
  }
  return out;
}
