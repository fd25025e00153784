/**
 * Decoders for the value shapes the gateway configuration uses: addresses, CIDRs, ports, host
 * patterns, header names, interface names and file paths.
 */
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { isScalar } from 'yaml';
import { fail, int, map, nameOf, scalar, str, wrongType, type Decoder } from './schema.js';

export const port: Decoder<number> = int(1, 65535, 'an integer from 1 to 65535');

/** An IPv4 or IPv6 literal (no brackets, no zone). */
export function ipAddress(hint = ''): Decoder<string> {
  return scalar<string>('an IPv4 or IPv6 address', (v) => typeof v === 'string', (v) => {
    const s = v as string;
    return isIP(s) !== 0 ? s : fail(`must be an IPv4 or IPv6 address (got ${JSON.stringify(s)})${hint}`, 'BAD_IP');
  });
}

export interface ParsedCidr {
  readonly address: string;
  readonly prefixLength: number;
  readonly family: 4 | 6;
}

/** Parses "a.b.c.d/n" or "x::y/n"; a bare address gets the full-length prefix when `bareAllowed`. */
export function parseCidr(s: string, bareAllowed: boolean): ParsedCidr | string {
  const slash = s.indexOf('/');
  const address = slash < 0 ? s : s.slice(0, slash);
  const family = isIP(address) as 0 | 4 | 6;
  if (family === 0) return `has no valid IPv4 or IPv6 address before the prefix (got ${JSON.stringify(s)})`;
  const max = family === 4 ? 32 : 128;
  if (slash < 0) {
    if (!bareAllowed) return `must be a CIDR such as 10.0.0.0/24 (got ${JSON.stringify(s)})`;
    return { address, prefixLength: max, family };
  }
  const prefixText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return `has a bad prefix length ${JSON.stringify(prefixText)}: IPv${family} prefixes are 0 to ${max} (got ${JSON.stringify(s)})`;
  }
  return { address, prefixLength: Number(prefixText), family };
}

/**
 * A CIDR, normalised to "address/prefix" (a bare address becomes /32 or /128) so consumers parse one
 * shape only.
 */
export const cidr: Decoder<string> = scalar<string>('a CIDR such as 10.0.0.0/24', (v) => typeof v === 'string', (v) => {
  const parsed = parseCidr(v as string, true);
  if (typeof parsed === 'string') return fail(parsed, 'BAD_CIDR');
  return `${parsed.address}/${parsed.prefixLength}`;
});

/** An interface address: "10.30.0.100/24" (a bare address gets /32 or /128). */
export const interfaceAddress: Decoder<ParsedCidr> = scalar<ParsedCidr>('an address such as 10.30.0.100/24', (v) => typeof v === 'string', (v) => {
  const parsed = parseCidr(v as string, true);
  return typeof parsed === 'string' ? fail(parsed, 'BAD_CIDR') : parsed;
});

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

export const hostname: Decoder<string> = scalar<string>('a host name', (v) => typeof v === 'string', (v) => {
  const s = v as string;
  return HOSTNAME.test(s) ? s.toLowerCase() : fail(`must be a host name such as origin.example.com (got ${JSON.stringify(s)})`);
});

/** `*` (any), `*.example.com` (any subdomain) or an exact host name or IP; stored lower-case. */
export const hostPattern: Decoder<string> = scalar<string>('a host pattern', (v) => typeof v === 'string', (v) => {
  const s = (v as string).toLowerCase();
  if (s === '*') return s;
  const rest = s.startsWith('*.') ? s.slice(2) : s;
  if (HOSTNAME.test(rest) || (rest === s && isIP(s) !== 0)) return s;
  return fail(`must be "*", "*.example.com" or an exact host name (got ${JSON.stringify(v)})`);
});

export const urlPrefix: Decoder<string> = str({ pattern: /^\/[^\s]*$/, patternHelp: 'a URL path prefix starting with "/"' });

/** RFC 9110 token: what a header name may contain. */
export const headerName: Decoder<string> = str({ pattern: /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, patternHelp: 'an HTTP header name' });

/** Linux limits interface names to 15 bytes (IFNAMSIZ - 1) and forbids "/" and white space. */
export const interfaceName: Decoder<string> = str({ pattern: /^[A-Za-z0-9_.:@-]{1,15}$/, patternHelp: 'a network interface name (at most 15 characters: letters, digits, _ . : @ -)' });

export const macAddress: Decoder<string> = str({ pattern: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i, patternHelp: 'a MAC address such as 02:00:00:00:00:01' });

export const httpMethod: Decoder<string> = map(str({ pattern: /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, patternHelp: 'an HTTP method token' }), (s) => s.toUpperCase());


/** A file path; relative paths resolve against the configuration file's directory. */
export const filePath: Decoder<string> = {
  expected: 'a file path',
  decode(node, path, cx) {
    if (!isScalar(node) || typeof node.value !== 'string') return wrongType(node, path, cx, 'a file path');
    const s = node.value;
    if (s.length === 0) return cx.report(node, path, 'BAD_FORMAT', `${nameOf(path)} must not be empty`);
    if (s.includes('\0')) return cx.report(node, path, 'BAD_FORMAT', `${nameOf(path)} must not contain a NUL character`);
    return isAbsolute(s) ? s : resolve(cx.dir, s);
  },
};
