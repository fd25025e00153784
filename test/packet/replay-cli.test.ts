import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { captureCommand } from '../../src/cli/commands/capture.js';
import { replayCommand } from '../../src/cli/commands/replay.js';
import { UsageError } from '../../src/cli/command.js';
import { LINKTYPE_ETHERNET } from '../../src/packet/packet-decoder.js';
import { PcapWriter } from '../../src/packet/pcap-file.js';
import { sniffConfigText } from './sniff-config.js';
import { TcpConversation, type Frame } from './tcp-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => { stdout += d; });
  err.on('data', (d) => { stderr += d; });
  return { io: { stdout: out, stderr: err }, text: () => ({ stdout, stderr }) };
}

function writePcap(name: string, frames: Frame[]): string {
  const file = join(dir, name);
  const w = new PcapWriter(file, LINKTYPE_ETHERNET);
  for (const f of frames) w.write(f.frame, f.timeMs);
  w.close();
  return file;
}

function traffic(): Frame[] {
  const frames: Frame[] = [];
  const a = new TcpConversation('10.1.0.1', 40100);
  frames.push(...a.handshake(), ...a.send('client', 'GET /?q=attack HTTP/1.1\r\nHost: a\r\n\r\nGET /?q=fine HTTP/1.1\r\nX-Evil: 1\r\n\r\n'),
    ...a.send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'.repeat(2)), ...a.close());
  const b = new TcpConversation('10.1.0.7', 40101);
  frames.push(...b.handshake(), ...b.send('client', 'GET /clean HTTP/1.1\r\nHost: a\r\n\r\n'),
    ...b.send('server', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\nsecret-leak inside'), ...b.close());
  // Traffic to another server is not inspected at all.
  const c = new TcpConversation('10.1.0.1', 40102, '10.1.0.99', 80);
  frames.push(...c.handshake(), ...c.send('client', 'GET /?q=attack HTTP/1.1\r\n\r\n'));
  return frames;
}

describe('portcullis replay', () => {
  const config = join(dir, 'sniff.yaml');
  writeFileSync(config, sniffConfigText('active'));

  it('prints every alert and a summary with alerts by rule id (--json)', async () => {
    const file = writePcap('t.pcap', traffic());
    const t = io();
    const rc = await replayCommand.run([file, '-c', config, '--json'], t.io);
    assert.equal(rc, 0, t.text().stderr);
    const lines = t.text().stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.pop()!['summary'] as Record<string, unknown>;
    assert.deepEqual(lines.map((a) => a['ruleIds']), [[1001], [1003], [1002]]);
    assert.deepEqual(lines.map((a) => a['action']), ['blocked', 'blocked', 'blocked']);
    assert.equal(summary['flows'], 2);
    assert.equal(summary['requests'], 3);
    assert.equal(summary['alerts'], 3);
    assert.deepEqual(summary['alertsByRule'], { 1001: 1, 1002: 1, 1003: 1 });
    assert.equal(summary['blocked'], 3);
  });

  it('prints readable lines without --json', async () => {
    const file = writePcap('t2.pcap', traffic());
    const t = io();
    assert.equal(await replayCommand.run([file, '-c', config], t.io), 0);
    const out = t.text().stdout;
    assert.match(out, /blocked  \[1001\] 10\.1\.0\.1 GET \/\?q=attack group=web/);
    assert.match(out, /rule 1001 +1/);
    assert.match(out, /requests +3/);
  });

  it('fails clearly on a file that is not a capture, and on usage mistakes', async () => {
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, 'this is not a pcap file at all');
    const t = io();
    assert.equal(await replayCommand.run([bad, '-c', config], t.io), 1);
    assert.match(t.text().stderr, /not a pcap file/);
    await assert.rejects(replayCommand.run(['-c', config], io().io), UsageError);
    await assert.rejects(replayCommand.run(['a.pcap', 'b.pcap', '-c', config], io().io), UsageError);
    await assert.rejects(replayCommand.run(['a.pcap', '--nope'], io().io), UsageError);
  });

  it('rejects a configuration that does not load', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'gateway: { mode: sniff, bogus: 1 }\nsites: []\n');
    const t = io();
    assert.equal(await replayCommand.run([join(dir, 't.pcap'), '-c', broken], t.io), 1);
    assert.match(t.text().stderr, /bogus/);
  });
});

describe('portcullis capture (argument checks; live capture is covered by the lab tests)', () => {
  it('needs an interface and an output file, and positive limits', async () => {
    await assert.rejects(captureCommand.run(['-w', 'x.pcap'], io().io), /needs -i IFACE/);
    await assert.rejects(captureCommand.run(['-i', 'lo'], io().io), /needs -w FILE/);
    await assert.rejects(captureCommand.run(['-i', 'lo', '-w', 'x.pcap', '-c', '0'], io().io), /-c needs a positive integer/);
    await assert.rejects(captureCommand.run(['-i', 'lo', '-w', 'x.pcap', '--duration', 'soon'], io().io), /--duration needs a positive number/);
  });

  it('reports an interface that does not exist', async () => {
    const t = io();
    assert.equal(await captureCommand.run(['-i', 'nosuchif0', '-w', join(dir, 'never.pcap'), '-c', '1'], t.io), 1);
    assert.match(t.text().stderr, /cannot capture on nosuchif0/);
  });
});

describe('portcullis replay progress bar', () => {
  it('draws a bar on a terminal for files over 1 MiB, and none otherwise', async () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 40; i++) {
      const c = new TcpConversation('10.1.0.1', 41000 + i);
      frames.push(...c.handshake(), ...c.send('client', `POST /up HTTP/1.1\r\nContent-Length: 30000\r\n\r\n${'a'.repeat(30000)}`), ...c.close());
    }
    const file = writePcap('big.pcap', frames);
    const config = join(dir, 'sniff-progress.yaml');
    writeFileSync(config, sniffConfigText('simulation'));
    const tty = io();
    Object.assign(tty.io.stderr, { isTTY: true });
    assert.equal(await replayCommand.run([file, '-c', config], tty.io), 0);
    assert.match(tty.text().stderr, /\[#+\] 100% 1\.\d\/1\.\d MiB/);
    const pipe = io();
    assert.equal(await replayCommand.run([file, '-c', config], pipe.io), 0);
    assert.equal(pipe.text().stderr, '');
    assert.match(pipe.text().stdout, /requests +40/);
  });
});
