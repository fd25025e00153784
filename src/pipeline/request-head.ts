/**
 * The part of request handling shared by plain requests and upgrades: limits on the head, host and path
 * extraction, the headers sent toward the upstream.
 */
import type { Limits } from '../config/types.js';
import { ANSWERS, type FailureAnswer } from './failure-answers.js';
import { outgoingForwardedFor } from './forwarded.js';
import { connectionNominatedHeaders, isRequestHopByHopName } from './hop-by-hop.js';
import { equalsLowerCase } from './http1/ascii-case.js';
import type { GatewayRequest } from './http1/types.js';
import type { Route } from './route.js';

/**
 * `req.headers[lowerName]` as a string, read without building the headers object when the request can
 * (the front end's requests); node:http's requests fall back to their object.
 */
export function headerOf(req: GatewayRequest, lowerName: string): string | undefined {
  return req.header !== undefined ? req.header(lowerName) : (req.headers[lowerName] as string | undefined);
}

/**
 * Header count and URL length. (Header *bytes* are node:http's maxHeaderSize, answered 431 through the
 * clientError handler.) node:http itself silently truncates beyond server.maxHeadersCount (default
 * 2000), which is far above any sane limit, so a count at or over our limit is still visible here.
 */
export function checkHeadLimits(req: GatewayRequest, limits: Limits): FailureAnswer | null {
  if (req.rawHeaders.length > limits.maxHeaderCount * 2) return ANSWERS['too-many-headers'];
  // RFC 9112 §3.2: a 1.1 request without Host is answered 400. Checked here rather than by node:http
  // (requireHostHeader) so that it is logged like every other refusal.
  if (headerOf(req, 'host') === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
    return ANSWERS['missing-host'];
  }
  // node:http decodes the request target as latin1: one char per received byte.
  if (req.url !== undefined && req.url.length > limits.maxUrlBytes) return ANSWERS['url-too-long'];
  if (limits.maxRequestBodyBytes > 0) {
    const declared = headerOf(req, 'content-length');
    if (declared !== undefined && Number(declared) > limits.maxRequestBodyBytes) return ANSWERS['body-too-large'];
  }
  return null;
}

/** Lower-case host without port; '' when the request has none. */
export function hostOf(req: GatewayRequest): string {
  const value = headerOf(req, 'host');
  if (value === undefined || value.length === 0) return '';
  let end = value.length;
  if (value.charCodeAt(0) === 91 /* [ */) {
    const close = value.indexOf(']');
    return (close > 0 ? value.slice(1, close) : value).toLowerCase();
  }
  const colon = value.lastIndexOf(':');
  if (colon >= 0) end = colon;
  return value.slice(0, end).toLowerCase();
}

/** The path of the request target, without the query (absolute-form targets reduced to their path). */
export function pathOf(url: string | undefined): string {
  if (url === undefined || url.length === 0) return '/';
  let start = 0;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const scheme = url.indexOf('://');
    if (scheme > 0) {
      const slash = url.indexOf('/', scheme + 3);
      if (slash < 0) return '/';
      start = slash;
    }
  }
  const query = url.indexOf('?', start);
  return query < 0 ? (start === 0 ? url : url.slice(start)) : url.slice(start, query);
}

/** True when the request carries a body (Content-Length > 0 or any Transfer-Encoding). */
export function hasRequestBody(req: GatewayRequest): boolean {
  if (headerOf(req, 'transfer-encoding') !== undefined) return true;
  const length = headerOf(req, 'content-length');
  return length !== undefined && length !== '0';
}

/**
 * Headers toward the upstream as a flat [name, value, …] list: hop-by-hop headers and those nominated by
 * Connection removed; X-Forwarded-For/-Proto/-Host replaced as the service's forwarding policy says
 * (kept as received when the peer is a trusted proxy); `upgrade` re-adds the Upgrade handshake headers.
 */
export function upstreamRequestHeaders(req: GatewayRequest, route: Route, peerIp: string, tls: boolean,
  upgrade: boolean): string[] {
  const raw = req.rawHeaders;
  const fwd = route.forwarding;
  const nominated = connectionNominatedHeaders(headerOf(req, 'connection'));
  const peerTrusted = fwd.isTrustedProxy(peerIp);
  const replaceProto = fwd.addProto && !(peerTrusted && headerOf(req, 'x-forwarded-proto') !== undefined);
  const replaceHost = fwd.addHost && !(peerTrusted && headerOf(req, 'x-forwarded-host') !== undefined);
  const outgoingFor = fwd.outgoingForHeader;
  const replaceHostHeader = route.hostHeader !== null;
  const out: string[] = [];
  // Names are compared without lower-casing each one (an allocation and a hash per field, per request).
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (isRequestHopByHopName(name)) continue;
    if (nominated !== null && nominated.has(name.toLowerCase())) continue;
    if (outgoingFor !== null && equalsLowerCase(name, outgoingFor)) continue;
    if (replaceProto && equalsLowerCase(name, 'x-forwarded-proto')) continue;
    if (replaceHost && equalsLowerCase(name, 'x-forwarded-host')) continue;
    if (replaceHostHeader && equalsLowerCase(name, 'host')) continue;
    out.push(name, raw[i + 1]!);
  }
  if (route.hostHeader !== null) out.push('host', route.hostHeader);
  if (fwd.outgoingForHeader !== null) {
    out.push(fwd.outgoingForHeader, outgoingForwardedFor(fwd, peerIp, headerOf(req, fwd.outgoingForHeader)));
  }
  if (replaceProto) out.push('x-forwarded-proto', tls ? 'https' : 'http');
  const host = replaceHost ? headerOf(req, 'host') : undefined;
  if (host !== undefined) out.push('x-forwarded-host', host);
  if (upgrade) out.push('connection', 'upgrade', 'upgrade', headerOf(req, 'upgrade') ?? 'websocket');
  return out;
}
