/**
 * IPv4 and IPv6 CIDR prefixes in binary tries (one per family) stored in typed arrays: a lookup walks at
 * most 32 or 128 bits whatever the number of prefixes and allocates nothing beyond parsing the address.
 * Built once at load time. Used by @ipMatch / @ipMatchFromFile and reusable by native IP policies.
 *
 * Address syntax is inet_pton's (what ModSecurity v2 uses): IPv4 is exactly four decimal octets;
 * IPv6 is the RFC 4291 text form, including "::" and a trailing dotted IPv4 part. By default there is no
 * family mixing: ::ffff:10.0.0.1 is an IPv6 address and does not match 10.0.0.0/8 (@ipMatch as in v2).
 *
 * `{ clientAddresses: true }` is for addresses as a dual-stack socket reports them (native IP policies):
 * an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up as the IPv4 address a.b.c.d, and brackets
 * and a zone suffix ("[fe80::1%eth0]") are ignored.
 */

export interface IpPrefixSetOptions {
  /** Look up ::ffff:a.b.c.d as a.b.c.d; accept "[…]" and "%zone". Default false (inet_pton, v2). */
  readonly clientAddresses?: boolean;
}

class BitTrie {
  private zero = new Int32Array(64);
  private one = new Int32Array(64);
  private terminal = new Uint8Array(64);
  private size = 1;

  insert(bits: Uint8Array, prefix: number): void {
    let node = 0;
    for (let i = 0; i < prefix; i++) {
      if (this.terminal[node]) return; // a shorter prefix already covers this one
      const bit = (bits[i >> 3]! >> (7 - (i & 7))) & 1;
      const arr = bit ? this.one : this.zero;
      let next = arr[node]!;
      if (next === 0) {
        next = this.grow();
        (bit ? this.one : this.zero)[node] = next;
      }
      node = next;
    }
    this.terminal[node] = 1;
  }

  contains(bits: Uint8Array, length: number): boolean {
    let node = 0;
    for (let i = 0; i < length; i++) {
      if (this.terminal[node]) return true;
      const bit = (bits[i >> 3]! >> (7 - (i & 7))) & 1;
      node = bit ? this.one[node]! : this.zero[node]!;
      if (node === 0) return false;
    }
    return this.terminal[node] === 1;
  }

  private grow(): number {
    if (this.size === this.zero.length) {
      const n = this.size * 2;
      const z = new Int32Array(n); z.set(this.zero); this.zero = z;
      const o = new Int32Array(n); o.set(this.one); this.one = o;
      const t = new Uint8Array(n); t.set(this.terminal); this.terminal = t;
    }
    return this.size++;
  }
}

/** Parses an IPv4 address into `out` (4 bytes); false if it is not inet_pton-valid. */
export function parseIpv4(s: string, out: Uint8Array, at = 0): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (p.length === 0 || p.length > 3 || !/^[0-9]+$/.test(p)) return false;
    if (p.length > 1 && p[0] === '0') return false; // inet_pton rejects leading zeros
    const v = Number(p);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

/** Parses an IPv6 address into `out` (16 bytes); false if it is not inet_pton-valid. */
export function parseIpv6(s: string, out: Uint8Array): boolean {
  if (s.length === 0 || s.length > 45) return false;
  const double = s.indexOf('::');
  if (double >= 0 && s.indexOf('::', double + 1) >= 0) return false;
  const head = double >= 0 ? s.slice(0, double) : s;
  const tail = double >= 0 ? s.slice(double + 2) : '';
  const groups: number[] = [];
  const parseSide = (side: string, allowV4: boolean): number[] | null => {
    if (side === '') return [];
    const items = side.split(':');
    const vals: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (allowV4 && i === items.length - 1 && it.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseIpv4(it, v4)) return null;
        vals.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9A-Fa-f]{1,4}$/.test(it)) return null;
      vals.push(parseInt(it, 16));
    }
    return vals;
  };
  const h = parseSide(head, double < 0);
  const t = parseSide(tail, true);
  if (h === null || t === null) return false;
  if (double >= 0) {
    if (h.length + t.length > 7) return false;
    groups.push(...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t);
  } else {
    if (h.length !== 8) return false;
    groups.push(...h);
  }
  for (let i = 0; i < 8; i++) { out[2 * i] = groups[i]! >> 8; out[2 * i + 1] = groups[i]! & 0xff; }
  return true;
}

export class IpPrefixSet {
  private readonly v4 = new BitTrie();
  private readonly v6 = new BitTrie();
  private readonly scratch = new Uint8Array(16);
  private readonly clientAddresses: boolean;
  private entries = 0;

  constructor(options: IpPrefixSetOptions = {}) {
    this.clientAddresses = options.clientAddresses === true;
  }

  /** Builds a set; throws naming the first bad entry. */
  static from(cidrs: Iterable<string>, options: IpPrefixSetOptions = {}): IpPrefixSet {
    const set = new IpPrefixSet(options);
    for (const c of cidrs) set.add(c);
    return set;
  }

  get size(): number { return this.entries; }

  /** Adds "a.b.c.d", "a.b.c.d/n", an IPv6 address or "v6/n". Throws on anything else. */
  add(cidr: string): void {
    const text = cidr.trim();
    const slash = text.indexOf('/');
    const addr = slash < 0 ? text : text.slice(0, slash);
    const bits = new Uint8Array(16);
    const isV6 = addr.includes(':');
    if (isV6 ? !parseIpv6(addr, bits) : !parseIpv4(addr, bits)) {
      throw new Error(`invalid IP address "${cidr}"`);
    }
    const max = isV6 ? 128 : 32;
    let prefix = max;
    if (slash >= 0) {
      const p = text.slice(slash + 1);
      if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) throw new Error(`invalid prefix length in "${cidr}" (0..${max})`);
      prefix = Number(p);
    }
    (isV6 ? this.v6 : this.v4).insert(bits, prefix);
    this.entries++;
  }

  /** True if `ip` (a textual address) lies in one of the prefixes; false for anything that is not an address. */
  has(ip: string): boolean {
    const s = this.scratch;
    if (this.clientAddresses) ip = stripClientDecoration(ip);
    if (ip.includes(':')) {
      if (!parseIpv6(ip, s)) return false;
      if (this.clientAddresses && isIpv4Mapped(s)) {
        s.copyWithin(0, 12, 16);
        return this.v4.contains(s, 32);
      }
      return this.v6.contains(s, 128);
    }
    return parseIpv4(ip, s) && this.v4.contains(s, 32);
  }
}

/** "[addr]" → "addr", "addr%zone" → "addr". */
function stripClientDecoration(ip: string): string {
  let s = ip;
  if (s.length > 1 && s.charCodeAt(0) === 0x5b && s.charCodeAt(s.length - 1) === 0x5d) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  return zone >= 0 ? s.slice(0, zone) : s;
}

/** ::ffff:0:0/96 */
function isIpv4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
