/**
 * Classic pcap files (the libpcap / tcpdump format, not pcapng): a 24-byte global header, then per
 * packet a 16-byte record header and the captured bytes. Both byte orders and both the microsecond
 * (0xa1b2c3d4) and nanosecond (0xa1b23c4d) variants are read; files are written little-endian with
 * microseconds, which every tool reads.
 *
 * The reader is synchronous and reads in large blocks into one reused buffer: the frame handed to the
 * callback is a view into that buffer, valid only during the call.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { PacketError } from './packet-errors.js';

export interface PcapHeader {
  readonly linkType: number;
  readonly snapLength: number;
  readonly nanoseconds: boolean;
  readonly littleEndian: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
}

export interface PcapReadSummary {
  readonly packets: number;
  readonly bytes: number;
  /** Set when the file ended inside a record (a capture that was cut); everything before it was read. */
  readonly truncated: boolean;
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Larger records than this are corruption, not packets (libpcap's own sanity limit is 256 KiB). */
const MAX_RECORD = 262144;
const BLOCK = 4 * 1024 * 1024;

export function parsePcapHeader(buf: Buffer, file: string): PcapHeader {
  if (buf.length < GLOBAL_HEADER) throw new PacketError('ERR_PCAP_TRUNCATED', `${file}: shorter than a pcap header (${buf.length} bytes)`);
  const le = buf.readUInt32LE(0);
  let littleEndian: boolean;
  let nanoseconds: boolean;
  if (le === 0xa1b2c3d4 || le === 0xa1b23c4d) {
    littleEndian = true;
    nanoseconds = le === 0xa1b23c4d;
  } else {
    const be = buf.readUInt32BE(0);
    if (be !== 0xa1b2c3d4 && be !== 0xa1b23c4d) {
      const hint = le === 0x0a0d0d0a ? ' (this is pcapng: convert it with `editcap -F pcap IN OUT`)' : '';
      throw new PacketError('ERR_PCAP_BAD_MAGIC', `${file}: not a pcap file (magic 0x${be.toString(16).padStart(8, '0')})${hint}`);
    }
    littleEndian = false;
    nanoseconds = be === 0xa1b23c4d;
  }
  const u16 = (o: number) => (littleEndian ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  return {
    littleEndian, nanoseconds,
    versionMajor: u16(4), versionMinor: u16(6),
    snapLength: u32(16),
    linkType: u32(20) & 0x0fffffff, // the upper bits carry FCS information
  };
}

export type PcapRecordHandler = (frame: Buffer, timeMs: number, originalLength: number) => void;

export class PcapReader {
  readonly header: PcapHeader;
  readonly fileSize: number;
  private readonly fd: number;
  private buf: Buffer = Buffer.allocUnsafe(BLOCK);
  private start = 0;
  private end = 0;
  private position = 0;

  constructor(readonly file: string) {
    try {
      this.fd = openSync(file, 'r');
    } catch (err) {
      throw new PacketError('ERR_PCAP_IO', `cannot open ${file}: ${(err as Error).message}`, { cause: err });
    }
    this.fileSize = fstatSync(this.fd).size;
    this.fill(GLOBAL_HEADER);
    try {
      this.header = parsePcapHeader(this.buf.subarray(this.start, this.end), file);
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
    this.start += GLOBAL_HEADER;
  }

  /** Bytes of the file consumed so far (for progress). */
  get bytesRead(): number {
    return this.position - (this.end - this.start);
  }

  /**
   * Calls `onRecord` for up to `maxRecords` records (all by default). Returns how many were read in
   * this call; 0 at the end of the file. `truncated` in `summary()` says whether the end was clean.
   */
  read(onRecord: PcapRecordHandler, maxRecords = Infinity): number {
    const { littleEndian: le, nanoseconds: ns } = this.header;
    let n = 0;
    while (n < maxRecords) {
      if (this.end - this.start < RECORD_HEADER && !this.fill(RECORD_HEADER)) {
        if (this.end > this.start) this.truncatedAt = this.bytesRead;
        return n;
      }
      const b = this.buf;
      const s = this.start;
      const sec = le ? b.readUInt32LE(s) : b.readUInt32BE(s);
      const frac = le ? b.readUInt32LE(s + 4) : b.readUInt32BE(s + 4);
      const incl = le ? b.readUInt32LE(s + 8) : b.readUInt32BE(s + 8);
      const orig = le ? b.readUInt32LE(s + 12) : b.readUInt32BE(s + 12);
      if (incl > MAX_RECORD) {
        throw new PacketError('ERR_PCAP_BAD_RECORD', `${this.file}: record ${this.records + 1} at byte ${this.bytesRead} claims ${incl} bytes (corrupt file); ${this.records} packets were read before it`);
      }
      if (this.end - this.start < RECORD_HEADER + incl && !this.fill(RECORD_HEADER + incl)) {
        this.truncatedAt = this.bytesRead;
        return n;
      }
      const frame = this.buf.subarray(this.start + RECORD_HEADER, this.start + RECORD_HEADER + incl);
      this.start += RECORD_HEADER + incl;
      this.records++;
      this.bytes += incl;
      n++;
      onRecord(frame, sec * 1000 + (ns ? frac / 1e6 : frac / 1e3), orig);
    }
    return n;
  }

  records = 0;
  bytes = 0;
  truncatedAt: number | null = null;

  summary(): PcapReadSummary {
    return { packets: this.records, bytes: this.bytes, truncated: this.truncatedAt !== null };
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Makes at least `need` unread bytes available; false at the end of the file. */
  private fill(need: number): boolean {
    if (this.end - this.start >= need) return true;
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(need);
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    while (this.end < need) {
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.position);
      if (got === 0) return false;
      this.end += got;
      this.position += got;
    }
    return true;
  }
}

/** Writes a classic pcap file; buffered, flushed on close. */
export class PcapWriter {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(1024 * 1024);
  private used = 0;
  packets = 0;

  constructor(readonly file: string, readonly linkType: number, readonly snapLength = 65535) {
    try {
      this.fd = openSync(file, 'w');
    } catch (err) {
      throw new PacketError('ERR_PCAP_IO', `cannot create ${file}: ${(err as Error).message}`, { cause: err });
    }
    const h = Buffer.alloc(GLOBAL_HEADER);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(snapLength, 16);
    h.writeUInt32LE(linkType, 20);
    writeSync(this.fd, h);
  }

  write(frame: Buffer, timeMs: number, originalLength = frame.length): void {
    const incl = Math.min(frame.length, this.snapLength);
    if (this.used + RECORD_HEADER + incl > this.buf.length) this.flush();
    if (RECORD_HEADER + incl > this.buf.length) throw new PacketError('ERR_PCAP_BAD_RECORD', `frame of ${incl} bytes is too large`);
    const sec = Math.floor(timeMs / 1000);
    const usec = Math.round((timeMs - sec * 1000) * 1000);
    const b = this.buf;
    b.writeUInt32LE(sec, this.used);
    b.writeUInt32LE(Math.min(usec, 999999), this.used + 4);
    b.writeUInt32LE(incl, this.used + 8);
    b.writeUInt32LE(Math.max(originalLength, incl), this.used + 12);
    frame.copy(b, this.used + RECORD_HEADER, 0, incl);
    this.used += RECORD_HEADER + incl;
    this.packets++;
  }

  flush(): void {
    if (this.used === 0) return;
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
