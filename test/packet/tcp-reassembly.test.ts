import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LINKTYPE_ETHERNET, decodeTcpSegment, newTcpSegment } from '../../src/packet/packet-decoder.js';
import {
  TO_CLIENT, TO_SERVER, TcpReassembler, DEFAULT_REASSEMBLY_LIMITS, type CloseReason, type Direction, type ReassemblyLimits, type TcpFlow,
} from '../../src/packet/tcp-reassembly.js';
import { TcpConversation, shuffled, type Frame } from './tcp-fixtures.js';

class Recorder {
  readonly streams: [Buffer[], Buffer[]] = [[], []];
  readonly gaps: [number[], number[]] = [[], []];
  readonly closes: CloseReason[] = [];
  opened = 0;
  readonly events = {
    opened: () => { this.opened++; },
    data: (_f: TcpFlow, dir: Direction, chunk: Buffer) => { this.streams[dir].push(Buffer.from(chunk)); },
    gap: (_f: TcpFlow, dir: Direction, bytes: number) => {
      this.gaps[dir].push(bytes);
      this.streams[dir].push(Buffer.from(`<gap ${bytes}>`));
    },
    closed: (_f: TcpFlow, reason: CloseReason) => { this.closes.push(reason); },
  };
  text(dir: Direction): string {
    return Buffer.concat(this.streams[dir]).toString('latin1');
  }
}

function run(frames: readonly Frame[], limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {
  const rec = new Recorder();
  const r = new TcpReassembler(rec.events, (s) => (s.dstPort === 80 ? TO_SERVER : s.srcPort === 80 ? TO_CLIENT : null), limits);
  const seg = newTcpSegment();
  for (const f of frames) {
    assert.equal(decodeTcpSegment(f.frame, LINKTYPE_ETHERNET, f.timeMs, seg), null);
    r.add(seg);
  }
  return { rec, r };
}

const REQUEST = 'GET /a?x=1 HTTP/1.1\r\nHost: example\r\n\r\n'.repeat(20);
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'.repeat(20);

function conversation(isn = 1000) {
  const c = new TcpConversation('10.1.0.1', 40000, '10.1.0.2', 80, isn, 77);
  const hs = c.handshake();
  const req = c.send('client', REQUEST, 100);
  const resp = c.send('server', RESPONSE, 90);
  const fin = c.close();
  return { c, hs, req, resp, fin };
}

describe('TCP reassembly', () => {
  it('delivers both directions in order and closes on FIN', () => {
    const { hs, req, resp, fin } = conversation();
    const { rec, r } = run([...hs, ...req, ...resp, ...fin]);
    assert.equal(rec.text(TO_SERVER), REQUEST);
    assert.equal(rec.text(TO_CLIENT), RESPONSE);
    assert.deepEqual(rec.closes, ['fin']);
    assert.equal(r.stats.gaps, 0);
    assert.equal(r.flowCount, 0);
  });

  for (const seed of [1, 2, 3, 42]) {
    it(`reorders shuffled segments (seed ${seed})`, () => {
      const { hs, req, resp, fin } = conversation();
      const { rec, r } = run([...hs, ...shuffled(req, seed), ...shuffled(resp, seed + 1), ...fin]);
      assert.equal(rec.text(TO_SERVER), REQUEST);
      assert.equal(rec.text(TO_CLIENT), RESPONSE);
      assert.equal(r.stats.gaps, 0);
      assert.equal(r.stats.bufferedBytes, 0);
    });
  }

  it('ignores duplicated segments (retransmissions) and counts them', () => {
    const { hs, req, resp, fin } = conversation();
    const doubled = [...req, ...resp].flatMap((f) => [f, f]);
    const { rec, r } = run([...hs, ...doubled, ...fin]);
    assert.equal(rec.text(TO_SERVER), REQUEST);
    assert.equal(rec.text(TO_CLIENT), RESPONSE);
    assert.equal(r.stats.retransmittedBytes, REQUEST.length + RESPONSE.length);
  });

  it('first wins: a later overlapping segment never replaces bytes already received', () => {
    const c = new TcpConversation();
    const hs = c.handshake();
    // Queued out of order first: bytes 10..14 = "AAAA".
    const early = c.segmentAt('client', 10, 'AAAA');
    // Then a segment covering 0..20 with other bytes at 10..14.
    const covering = c.segmentAt('client', 0, '0123456789BBBBefghij');
    c.advance('client', 20);
    // Then a retransmission of already delivered bytes with different content.
    const rewrite = c.segmentAt('client', -20, 'XXXXXXXXXX');
    const { rec, r } = run([...hs, early, covering, rewrite]);
    assert.equal(rec.text(TO_SERVER), '0123456789AAAAefghij');
    assert.equal(r.stats.overlapBytes, 4);
    assert.equal(r.stats.retransmittedBytes, 10);
  });

  it('keeps the delivered prefix when a segment straddles nextSeq', () => {
    const c = new TcpConversation();
    const hs = c.handshake();
    const first = c.send('client', 'abcdef');
    const straddle = c.segmentAt('client', -3, 'XYZghi');
    const { rec, r } = run([...hs, ...first, straddle]);
    assert.equal(rec.text(TO_SERVER), 'abcdefghi');
    assert.equal(r.stats.overlapBytes, 3);
  });

  it('reports a missing segment as a gap of exactly its size and delivers what follows', () => {
    const { hs, req, resp, fin } = conversation();
    const missing = req[3]!;
    const { rec, r } = run([...hs, ...req.filter((f) => f !== missing), ...resp, ...fin]);
    const lost = 100;
    assert.deepEqual(rec.gaps[TO_SERVER], [lost]);
    assert.equal(r.stats.gapBytes, lost);
    assert.equal(rec.text(TO_SERVER), `${REQUEST.slice(0, 300)}<gap ${lost}>${REQUEST.slice(400)}`);
    // The server's ACK of bytes the capture never saw declares the gap at once, not at the end.
    assert.deepEqual(rec.closes, ['fin']);
  });

  it('bounds out-of-order memory per direction: the hole becomes a gap before the flow ends', () => {
    const { hs, req } = conversation();
    const limits = { ...DEFAULT_REASSEMBLY_LIMITS, maxBufferedPerDirection: 250 };
    let maxBuffered = 0;
    const rec = new Recorder();
    const r = new TcpReassembler(rec.events, (s) => (s.dstPort === 80 ? TO_SERVER : TO_CLIENT), limits);
    const seg = newTcpSegment();
    for (const f of [...hs, ...req.slice(1)]) {
      decodeTcpSegment(f.frame, LINKTYPE_ETHERNET, f.timeMs, seg);
      r.add(seg);
      maxBuffered = Math.max(maxBuffered, r.stats.bufferedBytes);
    }
    assert.ok(maxBuffered <= 250 + 100, `buffered ${maxBuffered}`);
    assert.deepEqual(rec.gaps[TO_SERVER], [100]);
    assert.equal(rec.text(TO_SERVER), `<gap 100>${REQUEST.slice(100)}`);
    assert.equal(r.flowCount, 1, 'the flow is still open');
  });

  it('bounds memory over all flows', () => {
    const limits = { ...DEFAULT_REASSEMBLY_LIMITS, maxBufferedTotal: 500 };
    const frames: Frame[] = [];
    for (let i = 0; i < 5; i++) {
      const c = new TcpConversation('10.1.0.1', 41000 + i);
      frames.push(...c.handshake().slice(0, 1), ...c.send('client', 'x'.repeat(400), 100).slice(1));
    }
    const { r } = run(frames, limits);
    assert.ok(r.stats.bufferedBytes <= 500, `buffered ${r.stats.bufferedBytes}`);
    assert.ok(r.stats.gaps >= 1);
  });

  it('expires idle flows by capture time and flushes their holes as gaps', () => {
    const c = new TcpConversation();
    const hs = c.handshake();
    const data = c.send('client', 'a'.repeat(300), 100);
    const later = new TcpConversation('10.1.0.9', 50000, '10.1.0.2', 80, 1, 1, c.timeMs + 200_000);
    const { rec, r } = run([...hs, data[0]!, data[2]!, ...later.handshake()]);
    assert.deepEqual(rec.closes, ['idle']);
    assert.deepEqual(rec.gaps[TO_SERVER], [100]);
    assert.equal(r.flowCount, 1);
  });

  it('evicts the oldest flow when the table is full', () => {
    const limits = { ...DEFAULT_REASSEMBLY_LIMITS, maxFlows: 2 };
    const frames: Frame[] = [];
    for (let i = 0; i < 3; i++) frames.push(...new TcpConversation('10.1.0.1', 42000 + i).handshake());
    const { rec, r } = run(frames, limits);
    assert.deepEqual(rec.closes, ['evicted']);
    assert.equal(r.stats.flowsEvicted, 1);
    assert.equal(r.flowCount, 2);
  });

  it('handles sequence numbers that wrap around 2^32', () => {
    const c = new TcpConversation('10.1.0.1', 40000, '10.1.0.2', 80, 0xffffff00, 0xfffffff0);
    const frames = [...c.handshake(), ...shuffled(c.send('client', REQUEST, 64), 7), ...c.send('server', RESPONSE, 64), ...c.close()];
    const { rec, r } = run(frames);
    assert.equal(rec.text(TO_SERVER), REQUEST);
    assert.equal(rec.text(TO_CLIENT), RESPONSE);
    assert.equal(r.stats.gaps, 0);
  });

  it('picks up a flow midstream (no SYN seen) at its first data segment', () => {
    const { req, resp } = conversation();
    const { rec } = run([...req.slice(2), ...resp]);
    assert.equal(rec.text(TO_SERVER), REQUEST.slice(200));
    assert.equal(rec.text(TO_CLIENT), RESPONSE);
  });

  it('closes on RST and reports the sequence numbers each side expects', () => {
    const c = new TcpConversation();
    const frames = [...c.handshake(), ...c.send('client', 'hello'), ...c.send('server', 'world!')];
    const { r } = run(frames);
    const flow = r.findFlow('10.1.0.1|40000|10.1.0.2|80')!;
    assert.equal(flow.expectedSeq(TO_SERVER), c.cseq);
    assert.equal(flow.expectedSeq(TO_CLIENT), c.sseq);
    r.close(flow, 'rst');
    assert.equal(r.flowCount, 0);
  });
});
