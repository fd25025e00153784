/**
 * A set of IPv4/IPv6 CIDR prefixes as a binary trie over the address bits: lookup costs at most 32
 * (IPv4) or 128 (IPv6) steps whatever the number of prefixes, and nothing is allocated per lookup
 * beyond parsing the address. Built once at load time; shared by native IP allow/deny policies and
 * the @ipMatch / @ipMatchFromFile operators.
 */

interface Node {
  zero: Node | null;
  one: Node | null;
  terminal: boolean;
}

const newNode = (): Node => ({ zero: null, one: null, terminal: false });

export class IpSet {
  private readonly v4 = newNode();
  private readonly v6 = newNode();
  private count = 0;

  /** Builds a set; throws an Error naming the first bad entry. */
  static from(cidrs: Iterable<string>): IpSet {
    const s = new IpSet();
    for (const c of cidrs) s.add(c);
    return s;
  }

  get size(): number {
    return this.count;
  }

  /** Adds "10.0.0.0/8", "192.168.1.1", "2001:db8::/32". Throws on a malformed entry. */
  add(cidr: string): void {
    const text = cidr.trim();
    const slash = text.indexOf('/');
    const addr = slash < 0 ? text : text.slice(0, slash);
    const bytes = parseIp(addr);
    if (!bytes) throw new Error(`"${cidr}" is not an IP address or CIDR`);
    const max = bytes.length * 8;
    let prefix = max;
    if (slash >= 0) {
      const p = text.slice(slash + 1);
      if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new Error(`"${cidr}" has a bad prefix length`);
      prefix = Number(p);
    }
    let node = bytes.length === 4 ? this.v4 : this.v6;
    for (let i = 0; i < prefix; i++) {
      if (node.terminal) return; // a shorter prefix already covers it
      const bit = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
      if (bit === 0) node = node.zero ??= newNode();
      else node = node.one ??= newNode();
    }
    node.terminal = true;
    node.zero = node.one = null;
    this.count++;
  }

  /** True when the address lies in one of the prefixes. A malformed address is never contained. */
  has(ip: string): boolean {
    const bytes = parseIp(ip);
    if (!bytes) return false;
    let node: Node | null = bytes.length === 4 ? this.v4 : this.v6;
    const bits = bytes.length * 8;
    for (let i = 0; ; i++) {
      if (node.terminal) return true;
      if (i >= bits) return false;
      const bit = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
      node = bit === 0 ? node.zero : node.one;
      if (node === null) return false;
    }
  }
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const IPV6_CHARS = /^[0-9a-fA-F:.]+$/;

/** Parses an IPv4 or IPv6 literal to bytes; IPv4-mapped IPv6 (::ffff:1.2.3.4) becomes IPv4. */
export function parseIp(text: string): Uint8Array | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (IPV4.test(s)) {
    const parts = s.split('.').map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : null;
  }
  if (!IPV6_CHARS.test(s) || !s.includes(':')) return null;
  const doubles = s.split('::').length - 1;
  if (doubles > 1) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped) return parseIp(mapped[1]!);
  let head = s;
  let tailV4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = s.slice(lastColon + 1).split('.').map(Number);
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  if (tailV4.length > 0 && (tailV4.length !== 4 || tailV4.some((x) => !(x >= 0 && x <= 255)))) return null;
  const [left, right] = head.includes('::') ? head.split('::') : [head, null];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  if ([...l, ...r].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  if (right === null ? l.length !== 8 : l.length + r.length > 7) return null;
  const groups = right === null ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 255;
  });
  if (tailV4.length === 4) out.set(tailV4, 12);
  return out;
}
