/**
 * Live capture with libpcap through the `cap` binding, loaded on first use (dynamic import) so that
 * nothing outside sniff mode and `portcullis capture` needs the native module.
 *
 * cap 0.2.1 does not expose pcap_stats(), so the kernel's drop counter is read from the capture's
 * packet socket directly: getsockopt(SOL_PACKET, PACKET_STATISTICS) on the fd libpcap opened (found
 * through /proc/self/fd and /proc/net/packet), via koffi. That counter is what pcap_stats() reports
 * as ps_drop on Linux; the kernel resets it on every read, so it is accumulated here. cap never calls
 * pcap_stats() itself, so nothing else consumes it.
 *
 * cap fixes the snap length at 65535 and gives no per-packet timestamp: frames are stamped with the
 * time Node handles them (libpcap delivers in batches, so packets of one batch share a millisecond).
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { DLT_RAW, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL } from './packet-decoder.js';
import { PacketError } from './packet-errors.js';

export interface LiveCaptureOptions {
  readonly interface: string;
  /** BPF filter ('' = everything). */
  readonly filter: string;
  /** Kernel ring buffer size in bytes. */
  readonly bufferBytes: number;
  /** Largest frame kept (bytes); longer frames are cut and counted as truncated. */
  readonly snapLength: number;
  readonly onFrame: (frame: Buffer, timeMs: number) => void;
}

export interface CaptureCounters {
  /** Frames handed to onFrame. */
  readonly received: number;
  /** Frames the kernel dropped because the capture buffer was full (pcap drops). */
  readonly dropped: number;
  /** Frames longer than the snap length (cut). */
  readonly truncated: number;
}

export interface LiveCapture {
  readonly linkType: number;
  /** False when the kernel drop counter could not be reached (then `dropped` stays 0). */
  readonly dropCounting: boolean;
  counters(): CaptureCounters;
  close(): void;
}

const LINK_TYPES: Readonly<Record<string, number>> = {
  ETHERNET: LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL: LINKTYPE_LINUX_SLL,
  RAW: DLT_RAW,
};

type CapModule = typeof import('cap');

async function loadCap(): Promise<CapModule['Cap']> {
  try {
    const mod = (await import('cap')) as unknown as { Cap?: CapModule['Cap']; default?: { Cap: CapModule['Cap'] } };
    const Cap = mod.Cap ?? mod.default?.Cap;
    if (!Cap) throw new Error('the cap module has no Cap class');
    return Cap;
  } catch (err) {
    throw new PacketError('ERR_CAPTURE_UNAVAILABLE',
      `libpcap capture is not available: ${(err as Error).message} (install libpcap-dev and rebuild: npm rebuild cap)`, { cause: err });
  }
}

/** Inodes of every packet socket in the network namespace (/proc/net/packet, last column). */
function packetSocketInodes(): Set<string> {
  const out = new Set<string>();
  try {
    const lines = readFileSync('/proc/net/packet', 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      const inode = cols[cols.length - 1];
      if (inode) out.add(inode);
    }
  } catch {
    // no /proc: drop counting is unavailable, capture still works
  }
  return out;
}

/** fds of this process that are packet sockets. */
function packetSocketFds(): Set<number> {
  const inodes = packetSocketInodes();
  const fds = new Set<number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return fds;
  }
  for (const e of entries) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${e}`));
      if (m && inodes.has(m[1]!)) fds.add(Number(e));
    } catch {
      // the fd closed meanwhile
    }
  }
  return fds;
}

interface PacketStatsReader {
  /** Drops since the previous call (the kernel counter resets on read), or null when unavailable. */
  drops(fd: number): number | null;
}

let statsReader: PacketStatsReader | null | undefined;

/**
 * Cap objects whose open() failed, kept reachable for the life of the process. cap 0.2.1 leaves the
 * pcap handle of a failed open() in place without taking its reference; when such an object is
 * garbage collected its destructor calls Unref() on an empty handle and Node aborts
 * (`Nan::ObjectWrap::Unref(): Assertion '!persistent().IsEmpty()' failed`). close() aborts the same
 * way. Keeping them costs one small object and one inactive pcap handle per failed open.
 */
const failedCaptures: unknown[] = [];

function loadStatsReader(): PacketStatsReader | null {
  if (statsReader !== undefined) return statsReader;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    const getsockopt = libc.func('int getsockopt(int, int, int, _Out_ uint8_t *buf, _Inout_ uint32_t *len)') as
      (fd: number, level: number, name: number, buf: Buffer, len: number[]) => number;
    const SOL_PACKET = 263;
    const PACKET_STATISTICS = 6;
    const buf = Buffer.alloc(12); // struct tpacket_stats_v3 { tp_packets, tp_drops, tp_freeze_q_cnt }
    statsReader = {
      drops(fd) {
        const len = [12];
        if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, buf, len) !== 0) return null;
        return buf.readUInt32LE(4);
      },
    };
  } catch {
    statsReader = null;
  }
  return statsReader;
}

export async function openLiveCapture(options: LiveCaptureOptions): Promise<LiveCapture> {
  const Cap = await loadCap();
  const cap = new Cap();
  const buffer = Buffer.alloc(Math.max(options.snapLength, 64));
  const before = packetSocketFds();
  let linkName: string;
  try {
    linkName = cap.open(options.interface, options.filter, options.bufferBytes, buffer);
  } catch (err) {
    failedCaptures.push(cap);
    const msg = (err as Error).message;
    const hint = /permission|Operation not permitted/i.test(msg) ? ' (capturing needs CAP_NET_RAW)' : '';
    throw new PacketError('ERR_CAPTURE_OPEN', `cannot capture on ${options.interface}${options.filter ? ` with filter "${options.filter}"` : ''}: ${msg}${hint}`, { cause: err });
  }
  const linkType = LINK_TYPES[linkName];
  if (linkType === undefined) {
    cap.close();
    throw new PacketError('ERR_CAPTURE_OPEN', `cannot capture on ${options.interface}: unsupported link type ${linkName}`);
  }
  const mine = [...packetSocketFds()].filter((fd) => !before.has(fd));
  const fd = mine.length === 1 ? mine[0]! : null;
  const reader = fd === null ? null : loadStatsReader();
  reader?.drops(fd!); // start from zero: the counter resets on read
  let received = 0;
  let dropped = 0;
  let truncated = 0;
  let closed = false;
  cap.on('packet', (nbytes: number, trunc: boolean) => {
    received++;
    if (trunc) truncated++;
    options.onFrame(buffer.subarray(0, Math.min(nbytes, buffer.length)), Date.now());
  });
  return {
    linkType,
    dropCounting: reader !== null && fd !== null,
    counters() {
      if (!closed && reader && fd !== null) dropped += reader.drops(fd) ?? 0;
      return { received, dropped, truncated };
    },
    close() {
      if (closed) return;
      if (reader && fd !== null) dropped += reader.drops(fd) ?? 0;
      closed = true;
      cap.close();
    },
  };
}
