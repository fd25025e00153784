import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LINKTYPE_ETHERNET, decodeTcpSegment, newTcpSegment } from '../../src/packet/packet-decoder.js';
import { PacketError } from '../../src/packet/packet-errors.js';
import { PcapReader, PcapWriter } from '../../src/packet/pcap-file.js';
import { TcpConversation } from './tcp-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-pcap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('pcap files', () => {
  it('round-trips frames and timestamps', () => {
    const c = new TcpConversation();
    const frames = [...c.handshake(), ...c.send('client', 'GET / HTTP/1.1\r\n\r\n'), ...c.close()];
    const file = join(dir, 'a.pcap');
    const w = new PcapWriter(file, LINKTYPE_ETHERNET);
    for (const f of frames) w.write(f.frame, f.timeMs + 0.25);
    w.close();
    const r = new PcapReader(file);
    assert.equal(r.header.linkType, LINKTYPE_ETHERNET);
    const got: { frame: Buffer; t: number }[] = [];
    r.read((frame, t) => got.push({ frame: Buffer.from(frame), t }));
    r.close();
    assert.equal(got.length, frames.length);
    got.forEach((g, i) => {
      assert.deepEqual(g.frame, frames[i]!.frame);
      assert.ok(Math.abs(g.t - (frames[i]!.timeMs + 0.25)) < 0.002);
    });
    assert.equal(r.summary().truncated, false);
    const seg = newTcpSegment();
    assert.equal(decodeTcpSegment(got[3]!.frame, LINKTYPE_ETHERNET, 0, seg), null);
    assert.equal(seg.payloadLength, 18);
  });

  it('reads big-endian nanosecond files', () => {
    const frame = new TcpConversation().handshake()[0]!.frame;
    const h = Buffer.alloc(24);
    h.writeUInt32BE(0xa1b23c4d, 0);
    h.writeUInt16BE(2, 4);
    h.writeUInt16BE(4, 6);
    h.writeUInt32BE(65535, 16);
    h.writeUInt32BE(1, 20);
    const rec = Buffer.alloc(16);
    rec.writeUInt32BE(10, 0);
    rec.writeUInt32BE(500_000_000, 4);
    rec.writeUInt32BE(frame.length, 8);
    rec.writeUInt32BE(frame.length, 12);
    const file = join(dir, 'be.pcap');
    writeFileSync(file, Buffer.concat([h, rec, frame]));
    const r = new PcapReader(file);
    const times: number[] = [];
    r.read((_f, t) => times.push(t));
    r.close();
    assert.deepEqual(times, [10_500]);
  });

  it('keeps what was read before a truncated last record, and says so', () => {
    const file = join(dir, 'cut.pcap');
    const w = new PcapWriter(file, LINKTYPE_ETHERNET);
    for (const f of new TcpConversation().handshake()) w.write(f.frame, f.timeMs);
    w.close();
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 10));
    const r = new PcapReader(file);
    let n = 0;
    r.read(() => n++);
    r.close();
    assert.equal(n, 2);
    assert.equal(r.summary().truncated, true);
  });

  it('rejects files that are not pcap with a typed error (and names pcapng)', () => {
    const file = join(dir, 'ng.pcap');
    writeFileSync(file, Buffer.concat([Buffer.from([0x0a, 0x0d, 0x0d, 0x0a]), Buffer.alloc(40)]));
    assert.throws(() => new PcapReader(file), (e: unknown) => e instanceof PacketError && e.code === 'ERR_PCAP_BAD_MAGIC' && /pcapng/.test(e.message));
    writeFileSync(file, 'short');
    assert.throws(() => new PcapReader(file), (e: unknown) => e instanceof PacketError && e.code === 'ERR_PCAP_TRUNCATED');
    assert.throws(() => new PcapReader(join(dir, 'missing.pcap')), (e: unknown) => e instanceof PacketError && e.code === 'ERR_PCAP_IO');
  });

  it('rejects a corrupt record length', () => {
    const file = join(dir, 'bad.pcap');
    const w = new PcapWriter(file, LINKTYPE_ETHERNET);
    w.close();
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(0x7fffffff, 8);
    writeFileSync(file, Buffer.concat([readFileSync(file), rec]));
    const r = new PcapReader(file);
    assert.throws(() => r.read(() => {}), (e: unknown) => e instanceof PacketError && e.code === 'ERR_PCAP_BAD_RECORD');
    r.close();
  });
});
