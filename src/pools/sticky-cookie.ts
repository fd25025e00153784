/**
 * Cookie stickiness (alias mode): the first answer carries `Set-Cookie: NAME=<server id>`, and later
 * requests with that cookie go to the same server while it is usable. The id is a hash of the server's
 * address and port, so the cookie does not reveal internal addresses.
 */

/** The value of cookie `name` in a Cookie header, or null. Scans in place (no split per request). */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined || header.length <= name.length) return null;
  let from = 0;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at < 0) return null;
    from = at + name.length;
    let before = at - 1;
    while (before >= 0 && header.charCodeAt(before) === 0x20) before--;
    // The name must start a pair (start of the header or after ';') and be followed by '='.
    if (before >= 0 && header.charCodeAt(before) !== 0x3b) continue;
    if (header.charCodeAt(from) !== 0x3d) continue;
    let end = header.indexOf(';', from + 1);
    if (end < 0) end = header.length;
    return header.slice(from + 1, end).trim();
  }
}

export function setCookieValue(name: string, id: string): string {
  return `${name}=${id}; Path=/; HttpOnly; SameSite=Lax`;
}
