/**
 * Encodes IP literals as the `struct sockaddr_in` / `struct sockaddr_in6` bytes that libc's bind() and
 * connect() take. Pure, so it is tested without sockets.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const AF_INET = 2;
export const AF_INET6 = 10;

export interface EncodedSockaddr {
  readonly family: typeof AF_INET | typeof AF_INET6;
  readonly bytes: Buffer;
}

/** 4 bytes of a dotted-quad literal; the caller has validated it with isIPv4(). */
function ipv4Bytes(address: string, out: Buffer, offset: number): void {
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) out[offset + i] = Number(parts[i]);
}

/** 16 bytes of an IPv6 literal (with `::` and an optional trailing dotted quad); validated by isIPv6(). */
export function ipv6Bytes(address: string): Buffer {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) !== -1) {
    // embedded IPv4 (::ffff:10.0.0.1): rewrite it as the two hex groups it stands for
    const v4 = Buffer.alloc(4);
    ipv4Bytes(text.slice(lastColon + 1), v4, 0);
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const groupsOf = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const halves = text.split('::');
  const head = groupsOf(halves[0] ?? '');
  const groups =
    halves.length === 1
      ? head
      : [...head, ...new Array<number>(8 - head.length - groupsOf(halves[1] ?? '').length).fill(0), ...groupsOf(halves[1] ?? '')];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, i * 2);
  return out;
}

/** The address family of an IP literal, or null when it is not one (host names are not accepted). */
export function ipFamily(address: string): 4 | 6 | null {
  if (isIPv4(address)) return 4;
  if (isIPv6(address) && !address.includes('%')) return 6;
  return null;
}

/**
 * `struct sockaddr_in` (16 bytes) or `struct sockaddr_in6` (28 bytes) for an IP literal and a port.
 * Returns null for anything that is not an IP literal (zone ids such as fe80::1%eth0 are not supported).
 */
export function encodeSockaddr(address: string, port: number): EncodedSockaddr | null {
  const family = ipFamily(address);
  if (family === 4) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0); // sa_family is host order (little-endian on every Linux Node supports here)
    b.writeUInt16BE(port, 2);
    ipv4Bytes(address, b, 4);
    return { family: AF_INET, bytes: b };
  }
  if (family === 6) {
    const b = Buffer.alloc(28);
    b.writeUInt16LE(AF_INET6, 0);
    b.writeUInt16BE(port, 2);
    ipv6Bytes(address).copy(b, 8); // flowinfo (4 bytes) stays 0, scope id (last 4) stays 0
    return { family: AF_INET6, bytes: b };
  }
  return null;
}
