/**
 * Link → IP → TCP decoding of one captured frame into a reused `TcpSegment` (no allocation per packet
 * except the two address strings, which the flow table needs as keys anyway).
 *
 * Supported link types: Ethernet (with 802.1Q / 802.1ad tags), raw IP and Linux cooked capture (SLL),
 * which is what libpcap gives for `-i any`. IP fragments are not reassembled: a fragmented TCP segment
 * is counted (`fragment`) and skipped; the reassembler then sees a gap, which is accounted for.
 */

export const LINKTYPE_ETHERNET = 1;
/** DLT_RAW is 12 on Linux libpcap and 14 on some BSDs; LINKTYPE_RAW (pcap files) is 101. */
export const LINKTYPE_RAW = 101;
export const DLT_RAW = 12;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** Why a frame was not decoded into a TCP segment (stable names for the stats). */
export type SkipReason = 'not-ip' | 'not-tcp' | 'truncated' | 'fragment' | 'bad-header';

/** One decoded TCP segment. Reused: copy what you keep beyond the current packet. */
export interface TcpSegment {
  ipVersion: 4 | 6;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** The captured frame; the payload is `frame.subarray(payloadOffset, payloadOffset + payloadLength)`. */
  frame: Buffer;
  payloadOffset: number;
  payloadLength: number;
  /** Capture time in milliseconds since the epoch. */
  timeMs: number;
}

export function newTcpSegment(): TcpSegment {
  return {
    ipVersion: 4, srcIp: '', dstIp: '', srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0,
    frame: Buffer.alloc(0), payloadOffset: 0, payloadLength: 0, timeMs: 0,
  };
}

export function payloadOf(seg: TcpSegment): Buffer {
  return seg.frame.subarray(seg.payloadOffset, seg.payloadOffset + seg.payloadLength);
}

export function formatIpv4(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** RFC 5952 text form (lower-case, longest zero run compressed), matching Node's socket addresses. */
export function formatIpv6(buf: Buffer, off: number): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (buf.readUInt16BE(off + i * 2) === 0) {
      let j = i;
      while (j < 8 && buf.readUInt16BE(off + j * 2) === 0) j++;
      if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
      i = j;
    } else i++;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += buf.readUInt16BE(off + i * 2).toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

/**
 * Decodes `frame` (captured with `linkType`) into `out`. Returns null on success, or why the frame is
 * not a TCP segment we can use.
 */
export function decodeTcpSegment(frame: Buffer, linkType: number, timeMs: number, out: TcpSegment): SkipReason | null {
  let off: number;
  let etherType: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (frame.length < 14) return 'truncated';
      etherType = frame.readUInt16BE(12);
      off = 14;
      // 802.1Q and 802.1ad (QinQ) tags, at most two.
      for (let tags = 0; tags < 2 && (etherType === 0x8100 || etherType === 0x88a8); tags++) {
        if (frame.length < off + 4) return 'truncated';
        etherType = frame.readUInt16BE(off + 2);
        off += 4;
      }
      break;
    }
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16) return 'truncated';
      etherType = frame.readUInt16BE(14);
      off = 16;
      break;
    case LINKTYPE_RAW:
    case DLT_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      if (frame.length < 1) return 'truncated';
      const v = frame[0]! >> 4;
      etherType = v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0;
      off = 0;
      break;
    }
    default:
      return 'not-ip';
  }
  let tcpOff: number;
  let ipEnd: number;
  if (etherType === 0x0800) {
    if (frame.length < off + 20) return 'truncated';
    const vihl = frame[off]!;
    if (vihl >> 4 !== 4) return 'bad-header';
    const ihl = (vihl & 0x0f) * 4;
    if (ihl < 20) return 'bad-header';
    const totalLength = frame.readUInt16BE(off + 2);
    if (totalLength < ihl) return 'bad-header';
    const fragment = frame.readUInt16BE(off + 6);
    if ((fragment & 0x3fff) !== 0) return 'fragment'; // MF set or a non-zero offset
    if (frame[off + 9] !== 6) return 'not-tcp';
    // Ethernet pads short frames: the IP total length, not the frame length, ends the payload.
    ipEnd = off + totalLength;
    if (ipEnd > frame.length) ipEnd = frame.length; // snap length cut it; the TCP length check follows
    out.ipVersion = 4;
    out.srcIp = formatIpv4(frame, off + 12);
    out.dstIp = formatIpv4(frame, off + 16);
    tcpOff = off + ihl;
  } else if (etherType === 0x86dd) {
    if (frame.length < off + 40) return 'truncated';
    if (frame[off]! >> 4 !== 6) return 'bad-header';
    ipEnd = off + 40 + frame.readUInt16BE(off + 4);
    if (ipEnd > frame.length) ipEnd = frame.length;
    let next = frame[off + 6]!;
    let p = off + 40;
    // Skip the extension headers that can precede TCP; a Fragment header means a fragment.
    while (next !== 6) {
      if (next === 44) return 'fragment';
      if (next !== 0 && next !== 43 && next !== 60) return 'not-tcp';
      if (ipEnd < p + 8) return 'truncated';
      next = frame[p]!;
      p += (frame[p + 1]! + 1) * 8;
    }
    out.ipVersion = 6;
    out.srcIp = formatIpv6(frame, off + 8);
    out.dstIp = formatIpv6(frame, off + 24);
    tcpOff = p;
  } else {
    return 'not-ip';
  }
  if (ipEnd < tcpOff + 20) return 'truncated';
  const dataOff = (frame[tcpOff + 12]! >> 4) * 4;
  if (dataOff < 20) return 'bad-header';
  if (ipEnd < tcpOff + dataOff) return 'truncated';
  out.srcPort = frame.readUInt16BE(tcpOff);
  out.dstPort = frame.readUInt16BE(tcpOff + 2);
  out.seq = frame.readUInt32BE(tcpOff + 4);
  out.ack = frame.readUInt32BE(tcpOff + 8);
  out.flags = frame[tcpOff + 13]!;
  out.window = frame.readUInt16BE(tcpOff + 14);
  out.frame = frame;
  out.payloadOffset = tcpOff + dataOff;
  out.payloadLength = ipEnd - out.payloadOffset;
  out.timeMs = timeMs;
  return null;
}
