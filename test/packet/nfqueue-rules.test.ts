import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NfqueueRules } from '../../src/packet/nfqueue-rules.js';
import { readQueueDrops } from '../../src/packet/nfqueue-verdicts.js';
import { buildTcpPacket } from '../../src/packet/packet-builder.js';
import { ProtectedEndpoints } from '../../src/packet/protected-endpoints.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/packet-decoder.js';
import { sniffConfig } from './sniff-config.js';

const pkt = (src: string, sport: number, dst: string, dport: number) =>
  buildTcpPacket({ srcIp: src, dstIp: dst, srcPort: sport, dstPort: dport, seq: 1, ack: 0, flags: TCP_SYN });

describe('NFQUEUE verdict rules', () => {
  it('drops by CIDR (source or destination, IPv4 and IPv6) and by destination port; accepts the rest', () => {
    const r = new NfqueueRules(['192.0.2.0/24', '2001:db8::/32', '10.9.9.9/32'], [8081]);
    assert.equal(r.verdict(pkt('192.0.2.77', 1000, '10.0.0.1', 80)), 'deny-ip');
    assert.equal(r.verdict(pkt('10.0.0.1', 1000, '10.9.9.9', 80)), 'deny-ip');
    assert.equal(r.verdict(pkt('10.9.9.8', 1000, '10.0.0.1', 80)), null);
    assert.equal(r.verdict(pkt('2001:db8:1::5', 1000, 'fd00::1', 80)), 'deny-ip');
    assert.equal(r.verdict(pkt('2001:db9::5', 1000, 'fd00::1', 80)), null);
    assert.equal(r.verdict(pkt('10.0.0.2', 1000, '10.0.0.1', 8081)), 'deny-port');
    assert.equal(r.verdict(pkt('10.0.0.2', 8081, '10.0.0.1', 1000)), null, 'only destination ports');
    assert.equal(r.verdict(Buffer.from([0x45])), null, 'a truncated packet is accepted, never thrown on');
  });

  it('drops both directions of a blocked flow until it expires', () => {
    let now = 1000;
    const r = new NfqueueRules([], [], () => now);
    r.blockFlow({ clientIp: '10.0.0.2', clientPort: 40000, serverIp: '10.0.0.1', serverPort: 80 }, 5000);
    assert.equal(r.verdict(pkt('10.0.0.2', 40000, '10.0.0.1', 80)), 'blocked-flow');
    assert.equal(r.verdict(buildTcpPacket({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 80, dstPort: 40000, seq: 1, ack: 1, flags: TCP_ACK })), 'blocked-flow');
    assert.equal(r.verdict(pkt('10.0.0.2', 40001, '10.0.0.1', 80)), null);
    now = 7000;
    assert.equal(r.verdict(pkt('10.0.0.2', 40000, '10.0.0.1', 80)), null);
    r.sweep();
    assert.equal(r.blockedFlows, 0);
  });

  it('reads the kernel queue drop counters', () => {
    const proc = '    0  12345     0 2 65535     3     4      120  1\n    1  999     0 2 65535     0     0      0  1\n';
    assert.equal(readQueueDrops(0, proc), 7);
    assert.equal(readQueueDrops(1, proc), 0);
    assert.equal(readQueueDrops(2, proc), null);
  });
});

describe('protected endpoints', () => {
  it('builds the BPF filter from servers and ports, and tells the direction of a segment', () => {
    const e = new ProtectedEndpoints(sniffConfig('simulation'));
    assert.equal(e.bpfFilter(), 'tcp and ((host 10.1.0.2 and (port 80 or port 443)))');
    assert.equal(e.lookup('10.1.0.2', 443)?.tls, true);
    assert.equal(e.lookup('10.1.0.2', 80)?.group.name, 'web');
    assert.equal(e.lookup('10.1.0.3', 80), undefined);
  });
});
