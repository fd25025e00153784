/**
 * Reads the server name (SNI) from the first TLS record of a client's stream, so that TLS flows the
 * sniffer cannot read are at least reported with the name they were for.
 */

export type ClientHelloResult =
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'client-hello'; readonly serverName: string | null; readonly recordVersion: number };

/** Largest first record we wait for (a TLS record is at most 2^14 bytes plus its 5-byte header). */
export const CLIENT_HELLO_MAX_BYTES = 16384 + 5;

/** True when the bytes start like a TLS handshake record (content type 22, version 3.x). */
export function looksLikeTls(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0x16 && buf[1] === 0x03 && buf[2]! <= 0x04;
}

export function parseClientHello(buf: Buffer): ClientHelloResult {
  if (buf.length < 3) return { kind: 'incomplete' };
  if (!looksLikeTls(buf)) return { kind: 'not-tls' };
  if (buf.length < 5) return { kind: 'incomplete' };
  const recordVersion = buf.readUInt16BE(1);
  const recordLength = buf.readUInt16BE(3);
  const end = 5 + recordLength;
  if (buf.length < end) return buf.length >= CLIENT_HELLO_MAX_BYTES ? { kind: 'not-tls' } : { kind: 'incomplete' };
  let p = 5;
  if (buf[p] !== 0x01) return { kind: 'not-tls' }; // not a ClientHello
  // The ClientHello may continue in further records; the fields we need come first in practice.
  p += 4; // handshake type + 24-bit length
  p += 2 + 32; // client_version + random
  if (p >= end) return { kind: 'client-hello', serverName: null, recordVersion };
  p += 1 + buf[p]!; // session id
  if (p + 2 > end) return { kind: 'client-hello', serverName: null, recordVersion };
  p += 2 + buf.readUInt16BE(p); // cipher suites
  if (p + 1 > end) return { kind: 'client-hello', serverName: null, recordVersion };
  p += 1 + buf[p]!; // compression methods
  if (p + 2 > end) return { kind: 'client-hello', serverName: null, recordVersion };
  const extEnd = Math.min(end, p + 2 + buf.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (type === 0 && p + 5 <= extEnd) {
      // server_name_list: 2-byte list length, then entries of (type, 2-byte length, name)
      let q = p + 2;
      const listEnd = Math.min(p + len, extEnd);
      while (q + 3 <= listEnd) {
        const nameType = buf[q]!;
        const nameLen = buf.readUInt16BE(q + 1);
        q += 3;
        if (nameType === 0 && q + nameLen <= listEnd) {
          return { kind: 'client-hello', serverName: buf.toString('latin1', q, q + nameLen), recordVersion };
        }
        q += nameLen;
      }
    }
    p += len;
  }
  return { kind: 'client-hello', serverName: null, recordVersion };
}
