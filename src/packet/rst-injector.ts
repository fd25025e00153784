/**
 * Injects TCP resets with a raw socket (socket(AF_INET[6], SOCK_RAW, IPPROTO_RAW) + sendto through
 * koffi; IPPROTO_RAW implies that we write the IP header ourselves). Linux accepts a RST only when its
 * sequence number is exactly the receiver's rcv_nxt (RFC 5961; anything else in the window earns a
 * challenge ACK), so resets are built from what each side is known to expect:
 *  - from the reassembler's view of the flow when the block is decided, and
 *  - again from every later segment of the flow (its ack is what the sender expects, its seq + length
 *    what the receiver expects), which wins races with data the sniffer had not seen yet. This is
 *    how tcpkill and Snort's "resp" do it.
 * Needs CAP_NET_RAW.
 */
import { createRequire } from 'node:module';
import { AF_INET, AF_INET6, encodeSockaddr } from '../platform/socket-address.js';
import { buildTcpPacket } from './packet-builder.js';
import { TCP_ACK, TCP_RST } from './packet-decoder.js';
import { PacketError } from './packet-errors.js';

const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_RAW = 255;

export interface ResetSpec {
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  /** Must equal the receiver's next expected sequence number. */
  readonly seq: number;
  readonly ack: number;
}

export interface RstInjector {
  /** Sends one RST; false when the kernel refused it (the error is counted, never thrown). */
  send(spec: ResetSpec): boolean;
  readonly sent: number;
  readonly failed: number;
  readonly lastError: string | null;
  close(): void;
}

interface LibcRawCalls {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  close(fd: number): number;
  errno(): number;
}

let libc: LibcRawCalls | null = null;

function loadLibc(): LibcRawCalls {
  if (libc) return libc;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    libc = {
      socket: lib.func('int socket(int, int, int)'),
      sendto: lib.func('intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)'),
      close: lib.func('int close(int)'),
      errno: () => koffi.errno(),
    };
    return libc;
  } catch (err) {
    throw new PacketError('ERR_RAW_SOCKET', `cannot reach libc through koffi: ${(err as Error).message}`, { cause: err });
  }
}

export function openRstInjector(): RstInjector {
  const c = loadLibc();
  const fds = new Map<number, number>();
  const open = (family: number): number => {
    let fd = fds.get(family);
    if (fd !== undefined) return fd;
    fd = c.socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0) {
      const errno = c.errno();
      throw new PacketError('ERR_RAW_SOCKET',
        `cannot open a raw ${family === AF_INET ? 'IPv4' : 'IPv6'} socket for TCP resets: errno ${errno}${errno === 1 ? ' (EPERM: needs CAP_NET_RAW)' : ''}`);
    }
    fds.set(family, fd);
    return fd;
  };
  open(AF_INET); // fail at start, not at the first block
  let sent = 0;
  let failed = 0;
  let lastError: string | null = null;
  return {
    send(spec) {
      const addr = encodeSockaddr(spec.dstIp, 0);
      if (!addr) {
        failed++;
        lastError = `not an IP address: ${spec.dstIp}`;
        return false;
      }
      let fd: number;
      try {
        fd = open(addr.family === AF_INET ? AF_INET : AF_INET6);
      } catch (err) {
        failed++;
        lastError = (err as Error).message;
        return false;
      }
      const packet = buildTcpPacket({
        srcIp: spec.srcIp, dstIp: spec.dstIp, srcPort: spec.srcPort, dstPort: spec.dstPort,
        seq: spec.seq, ack: spec.ack, flags: TCP_RST | TCP_ACK, window: 0,
      });
      const r = Number(c.sendto(fd, packet, packet.length, 0, addr.bytes, addr.bytes.length));
      if (r !== packet.length) {
        failed++;
        lastError = `sendto failed: errno ${c.errno()}`;
        return false;
      }
      sent++;
      return true;
    },
    get sent() { return sent; },
    get failed() { return failed; },
    get lastError() { return lastError; },
    close() {
      for (const fd of fds.values()) c.close(fd);
      fds.clear();
    },
  };
}
