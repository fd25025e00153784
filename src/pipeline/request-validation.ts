/**
 * What llhttp lets through but RFC 9112 forbids in a request head, checked before routing and before the
 * policy engine: a request-target with a fragment, an HTTP version other than 1.0 and 1.1, and a Host
 * header that is repeated, empty, or not a host name, IP literal and port, and a CONNECT target without
 * a port. (A missing Host on HTTP/1.1 is
 * answered by the pipeline itself, reason `missing-host`, see request-head.ts.) Apache
 * (HttpProtocolOptions Strict, its default) and nginx refuse these too; a gateway that routes by Host
 * must not guess which server a `Host: localhost%00` or a second Host header means, and a server behind
 * it may read them differently (request smuggling and cache poisoning are built on such differences).
 *
 * A violation is answered 400 and raised as a protocol alert, like the parser's own rejections
 * (docs/RATIONALE.md, "The HTTP parser rejects malformed requests before the engine sees them").
 */

export interface HeadViolation {
  /** Stable reason code (logged, and the alert's reason). */
  readonly code: 'PORTCULLIS_BAD_VERSION' | 'PORTCULLIS_TARGET_FRAGMENT' | 'PORTCULLIS_DUPLICATE_HOST'
    | 'PORTCULLIS_INVALID_HOST' | 'PORTCULLIS_BAD_CONNECT_TARGET';
  readonly message: string;
}

const BAD_VERSION: HeadViolation = Object.freeze({ code: 'PORTCULLIS_BAD_VERSION', message: 'HTTP version other than 1.0 or 1.1' });
const FRAGMENT: HeadViolation = Object.freeze({ code: 'PORTCULLIS_TARGET_FRAGMENT', message: 'request-target holds a fragment (#)' });
const DUPLICATE_HOST: HeadViolation = Object.freeze({ code: 'PORTCULLIS_DUPLICATE_HOST', message: 'more than one Host header' });
const BAD_CONNECT: HeadViolation = Object.freeze({ code: 'PORTCULLIS_BAD_CONNECT_TARGET', message: 'CONNECT target is not host:port' });
const EMPTY_HOST: HeadViolation = Object.freeze({ code: 'PORTCULLIS_INVALID_HOST', message: 'empty Host header' });
const INVALID_HOST: HeadViolation = Object.freeze({ code: 'PORTCULLIS_INVALID_HOST', message: 'Host is not a host name or IP address with an optional port' });

/** Bytes allowed in a registered name: letters, digits, `-`, `.`, `_` (DNS names and the underscore some use). */
const NAME_BYTE = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) NAME_BYTE[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) NAME_BYTE[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) NAME_BYTE[c] = 1;
NAME_BYTE[0x2d] = 1; NAME_BYTE[0x2e] = 1; NAME_BYTE[0x5f] = 1;
/** Inside `[…]`: hex digits, `:` and `.` (IPv6, with an embedded IPv4 tail). */
const IPV6_BYTE = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) IPV6_BYTE[c] = 1;
for (let c = 0x41; c <= 0x46; c++) IPV6_BYTE[c] = 1;
for (let c = 0x61; c <= 0x66; c++) IPV6_BYTE[c] = 1;
IPV6_BYTE[0x3a] = 1; IPV6_BYTE[0x2e] = 1;

/** `host [":" port]` with host a registered name or `[IPv6]`, port up to five digits. */
export function isValidHostValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return false;
  let i = 0;
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    i = 1;
    while (i < n && value.charCodeAt(i) < 128 && IPV6_BYTE[value.charCodeAt(i)] === 1) i++;
    if (i === 1 || i >= n || value.charCodeAt(i) !== 0x5d /* ] */) return false;
    i++;
  } else {
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c >= 128 || NAME_BYTE[c] !== 1) break;
      i++;
    }
    if (i === 0) return false;
  }
  if (i === n) return true;
  if (value.charCodeAt(i) !== 0x3a /* : */) return false;
  const digits = n - i - 1;
  if (digits < 1 || digits > 5) return false;
  for (let j = i + 1; j < n; j++) {
    const c = value.charCodeAt(j);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * The first violation in a parsed request head, or null. `rawHeaders` is the flat [name, value, …] list
 * as received (names in their original case). `connect`: the method is CONNECT, whose target must be the
 * authority-form `host:port` (RFC 9110 §9.3.6; the port is not optional).
 */
export function validateRequestHead(url: string, versionMajor: number, versionMinor: number,
  rawHeaders: readonly string[], connect = false): HeadViolation | null {
  if (versionMajor !== 1 || (versionMinor !== 0 && versionMinor !== 1)) return BAD_VERSION;
  if (url.indexOf('#') >= 0) return FRAGMENT;
  if (connect) {
    const colon = url.lastIndexOf(':');
    if (colon <= 0 || colon === url.length - 1 || !isValidHostValue(url)) return BAD_CONNECT;
  }
  let host: string | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 4 && (name === 'Host' || name === 'host' || name.toLowerCase() === 'host')) {
      if (host !== null) return DUPLICATE_HOST;
      host = rawHeaders[i + 1]!;
    }
  }
  if (host === null) return null;
  if (host.length === 0) return EMPTY_HOST;
  return isValidHostValue(host) ? null : INVALID_HOST;
}
