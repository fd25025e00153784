/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: a proxy consumes them and
 * never forwards them. The sets are built once; the per-request work is one lower-casing per header name.
 */
import { equalsLowerCase, startsLowerCase } from './http1/ascii-case.js';


/** Request headers never forwarded to the upstream. */
const REQUEST_HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // node:http already answered `100 Continue` to the client; forwarding Expect would ask the upstream again.
  'expect',
]);

/** Response headers never forwarded to the client (node:http frames the response itself). */
const RESPONSE_HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Every Proxy-* header concerns the proxy hop. A bare `Proxy:` header is not standard but CGI-style servers
 * turn it into HTTP_PROXY ("httpoxy"), so it never travels upstream either.
 */
function isProxyHeader(lowerName: string): boolean {
  return lowerName.charCodeAt(0) === 112 /* p */ && (lowerName === 'proxy' || lowerName.startsWith('proxy-'));
}

/** Proxy or Proxy-*, any case. */
function isProxyName(name: string): boolean {
  return startsLowerCase(name, 'proxy') && (name.length === 5 || name.charCodeAt(5) === 45 /* - */);
}

/**
 * The hop-by-hop headers common to requests and responses, for a name in any case: the sets above,
 * decided by length first so that a header that is not one costs a switch and rarely a comparison
 * (the per-request header loops call this for every field; lower-casing each name and hashing it into
 * a Set cost an allocation and a hash per field).
 */
function isHopByHopName(name: string, request: boolean): boolean {
  switch (name.length) {
    case 2:
      return equalsLowerCase(name, 'te');
    case 6:
      return (request && equalsLowerCase(name, 'expect')) || isProxyName(name);
    case 7:
      return equalsLowerCase(name, 'trailer') || equalsLowerCase(name, 'upgrade') || isProxyName(name);
    case 10:
      return equalsLowerCase(name, 'connection') || equalsLowerCase(name, 'keep-alive') || isProxyName(name);
    case 17:
      return equalsLowerCase(name, 'transfer-encoding') || isProxyName(name);
    default:
      // proxy-connection, proxy-authenticate, proxy-authorization and every other Proxy-* name.
      return isProxyName(name);
  }
}

/** isRequestHopByHop for a header name as received (any case). */
export function isRequestHopByHopName(name: string): boolean {
  return isHopByHopName(name, true);
}

/** isResponseHopByHop for a header name as received (any case). */
export function isResponseHopByHopName(name: string): boolean {
  return isHopByHopName(name, false);
}

export function isRequestHopByHop(lowerName: string): boolean {
  return REQUEST_HOP_BY_HOP.has(lowerName) || isProxyHeader(lowerName);
}

export function isResponseHopByHop(lowerName: string): boolean {
  return RESPONSE_HOP_BY_HOP.has(lowerName) || isProxyHeader(lowerName);
}

/**
 * Header names listed in a Connection header value ("close, X-Foo") are hop-by-hop too. Returns null for
 * the common case (no Connection header, or only the keep-alive/close/upgrade tokens) so that callers
 * allocate nothing.
 */
export function connectionNominatedHeaders(connectionValue: string | undefined): Set<string> | null {
  if (connectionValue === undefined || connectionValue.length === 0) return null;
  // Nearly every message says just "keep-alive" (or "close"): answered without splitting the value.
  if (connectionValue.length <= 10 && connectionValue.indexOf(',') < 0) {
    const only = connectionValue.trim().toLowerCase();
    if (only === 'keep-alive' || only === 'close' || only === 'upgrade' || only.length === 0) return null;
  }
  let nominated: Set<string> | null = null;
  for (const token of connectionValue.split(',')) {
    const name = token.trim().toLowerCase();
    if (name.length === 0 || name === 'close' || name === 'keep-alive' || name === 'upgrade') continue;
    (nominated ??= new Set()).add(name);
  }
  return nominated;
}
