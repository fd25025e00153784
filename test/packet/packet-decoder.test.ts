import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTcpPacket, ethernetFrame } from '../../src/packet/packet-builder.js';
import {
  LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW, TCP_ACK, TCP_PSH, decodeTcpSegment, newTcpSegment, payloadOf,
} from '../../src/packet/packet-decoder.js';

const spec = { srcIp: '10.1.0.1', dstIp: '10.1.0.2', srcPort: 40000, dstPort: 80, seq: 0xfffffff0, ack: 7, flags: TCP_ACK | TCP_PSH, payload: Buffer.from('GET / HTTP/1.1\r\n\r\n') };

describe('frame decoder', () => {
  it('decodes Ethernet / IPv4 / TCP and ignores Ethernet padding', () => {
    const seg = newTcpSegment();
    const small = ethernetFrame(buildTcpPacket({ ...spec, payload: Buffer.from('hi') }));
    const padded = Buffer.concat([small, Buffer.alloc(60 - small.length + 4, 0xee)]);
    assert.equal(decodeTcpSegment(padded, LINKTYPE_ETHERNET, 5, seg), null);
    assert.equal(payloadOf(seg).toString(), 'hi');
    assert.deepEqual([seg.srcIp, seg.srcPort, seg.dstIp, seg.dstPort, seg.seq, seg.ack, seg.flags, seg.timeMs],
      ['10.1.0.1', 40000, '10.1.0.2', 80, 0xfffffff0, 7, TCP_ACK | TCP_PSH, 5]);
  });

  it('decodes IPv6 (canonical addresses), 802.1Q tags, Linux cooked capture and raw IP', () => {
    const seg = newTcpSegment();
    const v6 = buildTcpPacket({ ...spec, srcIp: '2001:db8:0:0:0:0:0:1', dstIp: 'fd00::2' });
    assert.equal(decodeTcpSegment(ethernetFrame(v6), LINKTYPE_ETHERNET, 0, seg), null);
    assert.deepEqual([seg.ipVersion, seg.srcIp, seg.dstIp], [6, '2001:db8::1', 'fd00::2']);
    assert.equal(payloadOf(seg).toString(), 'GET / HTTP/1.1\r\n\r\n');

    const plain = ethernetFrame(buildTcpPacket(spec));
    const tagged = Buffer.concat([plain.subarray(0, 12), Buffer.from([0x81, 0x00, 0x00, 0x0a]), plain.subarray(12)]);
    assert.equal(decodeTcpSegment(tagged, LINKTYPE_ETHERNET, 0, seg), null);
    assert.equal(seg.dstPort, 80);

    const ip = buildTcpPacket(spec);
    const sll = Buffer.concat([Buffer.alloc(14), Buffer.from([0x08, 0x00]), ip]);
    assert.equal(decodeTcpSegment(sll, LINKTYPE_LINUX_SLL, 0, seg), null);
    assert.equal(seg.srcIp, '10.1.0.1');
    assert.equal(decodeTcpSegment(ip, LINKTYPE_RAW, 0, seg), null);
    assert.equal(seg.payloadLength, spec.payload.length);
  });

  it('says why a frame is skipped: truncated, fragment, not TCP, not IP, bad header', () => {
    const seg = newTcpSegment();
    const frame = ethernetFrame(buildTcpPacket(spec));
    assert.equal(decodeTcpSegment(frame.subarray(0, 40), LINKTYPE_ETHERNET, 0, seg), 'truncated');
    const frag = Buffer.from(frame);
    frag.writeUInt16BE(0x2000, 14 + 6); // MF
    assert.equal(decodeTcpSegment(frag, LINKTYPE_ETHERNET, 0, seg), 'fragment');
    const udp = Buffer.from(frame);
    udp[14 + 9] = 17;
    assert.equal(decodeTcpSegment(udp, LINKTYPE_ETHERNET, 0, seg), 'not-tcp');
    const arp = Buffer.from(frame);
    arp.writeUInt16BE(0x0806, 12);
    assert.equal(decodeTcpSegment(arp, LINKTYPE_ETHERNET, 0, seg), 'not-ip');
    const badIhl = Buffer.from(frame);
    badIhl[14] = 0x43;
    assert.equal(decodeTcpSegment(badIhl, LINKTYPE_ETHERNET, 0, seg), 'bad-header');
    assert.equal(decodeTcpSegment(frame, 9999, 0, seg), 'not-ip');
  });
});
