import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { LINKTYPE_ETHERNET } from '../../src/packet/packet-decoder.js';
import { PacketPipeline } from '../../src/packet/packet-pipeline.js';
import type { BlockedRequest } from '../../src/packet/flow-inspection.js';
import type { Alert } from '../../src/policy/alerts.js';
import { createInspectorSet } from '../../src/policy/inspector.js';
import type { OperationMode } from '../../src/config/types.js';
import { sniffConfig } from './sniff-config.js';
import { TcpConversation, shuffled, type Frame } from './tcp-fixtures.js';

function pipeline(mode: OperationMode, tearDown = false) {
  const config = sniffConfig(mode);
  const alerts: Alert[] = [];
  const blocked: BlockedRequest[] = [];
  const inspectors = createInspectorSet(config, { logger: pino({ level: 'silent' }), alertSink: (a) => alerts.push(a) });
  const p = new PacketPipeline(config, inspectors, { blocked: (b) => { blocked.push(b); return tearDown; } });
  const feed = (frames: readonly Frame[]) => { for (const f of frames) p.handleFrame(f.frame, LINKTYPE_ETHERNET, f.timeMs); };
  return { p, alerts, blocked, feed };
}

const CLEAN = 'GET /index.html?q=hello HTTP/1.1\r\nHost: shop\r\n\r\n';
const ATTACK = 'GET /search?q=attack HTTP/1.1\r\nHost: shop\r\n\r\n';
const OK_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok';

describe('flows → HTTP → policy engine', () => {
  it('alerts on an attack in a pipelined request, with the client as peer, and not on clean requests', () => {
    const { p, alerts, blocked, feed } = pipeline('simulation');
    const c = new TcpConversation('10.1.0.1', 40001, '10.1.0.2', 80);
    feed([...c.handshake(), ...c.send('client', CLEAN + ATTACK + CLEAN, 30), ...c.send('server', OK_RESPONSE.repeat(3), 25), ...c.close()]);
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0]!.ruleIds, [1001]);
    assert.equal(alerts[0]!.peerIp, '10.1.0.1');
    assert.equal(alerts[0]!.clientIp, '10.1.0.1');
    assert.equal(alerts[0]!.uri, '/search?q=attack');
    assert.equal(alerts[0]!.action, 'detected');
    assert.equal(blocked.length, 0, 'simulation never blocks');
    assert.equal(p.stats().http.requests, 3);
    assert.equal(p.stats().http.responses, 3);
  });

  it('finds an attack split over reordered segments and a chunked body', () => {
    const { alerts, feed } = pipeline('simulation');
    const c = new TcpConversation('10.1.0.1', 40002);
    const body = 'a=1&b=att';
    const body2 = 'ack&c=3';
    const req = `POST /form HTTP/1.1\r\nHost: shop\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n${body2.length.toString(16)}\r\n${body2}\r\n0\r\n\r\n`;
    feed([...c.handshake(), ...shuffled(c.send('client', req, 7), 5), ...c.send('server', OK_RESPONSE), ...c.close()]);
    assert.deepEqual(alerts.map((a) => a.ruleIds), [[1001]]);
  });

  it('decodes a gzip response before phase 4', () => {
    const { alerts, feed } = pipeline('simulation');
    const c = new TcpConversation('10.1.0.1', 40003);
    const gz = gzipSync(Buffer.from('here is a secret-leak for you'));
    const head = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`;
    feed([...c.handshake(), ...c.send('client', CLEAN), ...c.send('server', Buffer.concat([Buffer.from(head), gz]), 20), ...c.close()]);
    assert.deepEqual(alerts.map((a) => a.ruleIds), [[1002]]);
  });

  it('in active mode reports the block to the caller, which tears the flow down; later requests are not inspected', () => {
    const { p, alerts, blocked, feed } = pipeline('active', true);
    const c = new TcpConversation('10.1.0.1', 40004);
    feed([...c.handshake(), ...c.send('client', ATTACK + 'GET /?x=attack HTTP/1.1\r\nX-Evil: 1\r\n\r\n'), ...c.close()]);
    assert.equal(blocked.length, 1);
    assert.equal(blocked[0]!.decision.kind, 'block');
    assert.equal(blocked[0]!.flow.clientPort, 40004);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.action, 'blocked');
    assert.equal(alerts[0]!.status, 0, 'status 0: the connection was reset');
    assert.equal(p.stats().http.blockedFlows, 1);
  });

  it('reports a TLS flow as uninspected with its SNI', () => {
    const { p, alerts, feed } = pipeline('simulation');
    const c = new TcpConversation('10.1.0.1', 40005, '10.1.0.2', 443);
    feed([...c.handshake(), ...c.send('client', clientHello('shop.example.com')), ...c.send('server', Buffer.from([0x16, 3, 3, 0, 1, 2])), ...c.close()]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.matches[0]!.policy, 'tls-uninspected');
    assert.match(alerts[0]!.matches[0]!.matchedData ?? '', /SNI=shop\.example\.com/);
    assert.equal(p.stats().http.tlsFlows, 1);
  });

  it('after a gap the stream resynchronises on the next request line', () => {
    const { alerts, feed } = pipeline('simulation');
    const c = new TcpConversation('10.1.0.1', 40006);
    const hs = c.handshake();
    const first = c.send('client', 'GET /a?x=att');
    const lost = c.send('client', 'ack HTTP/1.1\r\nHost: x\r\n\r\n');
    const second = c.send('client', ATTACK);
    feed([...hs, ...first, ...second, ...c.send('server', OK_RESPONSE), ...c.close()]);
    void lost;
    assert.deepEqual(alerts.map((a) => a.uri), ['/search?q=attack']);
  });
});

/** A minimal TLS 1.2 ClientHello record with an SNI extension. */
export function clientHello(name: string): Buffer {
  const host = Buffer.from(name);
  const sniList = Buffer.concat([Buffer.from([0]), u16(host.length), host]);
  const sniExt = Buffer.concat([u16(0), u16(sniList.length + 2), u16(sniList.length), sniList]);
  const body = Buffer.concat([
    Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]),
    u16(sniExt.length), sniExt,
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(hs.length), hs]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

describe('flows that leave HTTP', () => {
  it('stops parsing after 101 Switching Protocols (WebSocket frames are not requests)', () => {
    const { p, alerts, feed } = pipeline('simulation');
    const c = new TcpConversation('10.1.0.1', 40007);
    feed([
      ...c.handshake(),
      ...c.send('client', 'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
      ...c.send('server', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
      ...c.send('client', Buffer.from([0x81, 0x86, 1, 2, 3, 4, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66])),
      ...c.send('client', 'GET /?q=attack HTTP/1.1\r\n\r\n'),
      ...c.close(),
    ]);
    assert.equal(p.stats().http.violations, 0);
    assert.equal(p.stats().http.requests, 1);
    assert.equal(alerts.length, 0);
  });
});
