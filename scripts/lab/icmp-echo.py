#!/usr/bin/env python3
"""icmp-echo.py ADDRESS [TIMEOUT_S] - send one ICMP echo request and wait for the reply (exit 0) or
time out (exit 1). The lab's ping, so the lab needs no iputils-ping; raw socket, so run as root."""
import os, select, socket, struct, sys, time

def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    dst, timeout = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    ident, seq = os.getpid() & 0xffff, 1
    payload = b'portcullis-lab'
    header = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    packet = struct.pack('!BBHHH', 8, 0, checksum(header + payload), ident, seq) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        s.sendto(packet, (dst, 0))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([s], [], [], left)[0]:
                break
            data, addr = s.recvfrom(2048)
            ihl = (data[0] & 0x0f) * 4
            icmp_type, _, _, rid, rseq = struct.unpack('!BBHHH', data[ihl:ihl + 8])
            if icmp_type == 0 and rid == ident and rseq == seq and addr[0] == dst:
                print(f'reply from {dst}')
                return 0
    print(f'no reply from {dst} within {timeout}s')
    return 1

sys.exit(main())
