/**
 * Sniff mode end to end on the real kernel: a mirror port (tc mirred) feeds `portcullis run` in sniff
 * mode; attacks produce alerts in simulation and client-visible resets in active mode; clean traffic
 * is untouched; a tcpdump recording of the same traffic replays to exactly the expected rule ids.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { replayCommand } from '../../src/cli/commands/replay.js';
import type { OperationMode } from '../../src/config/types.js';
import { sniffConfigText } from '../packet/sniff-config.js';
import { assertLabAvailable, labSkip, sleep } from './lab-harness.js';
import { SERVER_IP, SERVER_IP6, SniffLab } from './sniff-lab.js';

const skip = labSkip();

describe('sniff mode in the netns lab', { skip, timeout: 240_000 }, () => {
  const lab = new SniffLab('snf');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-sniff-lab-'));

  before(async () => {
    assertLabAvailable();
    lab.up();
    await lab.node('server', 'test/sniff/lab-origin.ts', [SERVER_IP, '400', '80', '443'], (l) => l === 'ready');
    await lab.node('server', 'test/sniff/lab-origin.ts', [SERVER_IP6, '400', '80'], (l) => l === 'ready');
  });

  after(async () => {
    await lab.stopAll();
    lab.down();
    rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = (mode: OperationMode): string => {
    const file = join(dir, `sniff-${mode}.yaml`);
    const extra = `  alerts: { file: ${join(dir, `alerts-${mode}.jsonl`)} }\n  control: { socket: ${join(dir, `control-${mode}.sock`)} }\n  log: { level: info }`;
    writeFileSync(file, sniffConfigText(mode, `${SERVER_IP}, "${SERVER_IP6}"`, 'mon0', extra).replace('sniff: { interface: mon0 }', 'sniff: { interface: mon0, statsIntervalMs: 1000 }'));
    return file;
  };

  const startDaemon = (configFile: string) =>
    lab.start('gw', [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'run', '-c', configFile], (l) => l.includes('"daemon ready"'));

  const alertsOf = async (mode: OperationMode, count: number): Promise<Record<string, unknown>[]> => {
    const file = join(dir, `alerts-${mode}.jsonl`);
    for (let i = 0; i < 40; i++) {
      if (existsSync(file)) {
        const lines = readFileSync(file, 'utf8').trim().split('\n').filter((l) => l !== '');
        if (lines.length >= count) return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      }
      await sleep(100);
    }
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  };

  it('simulation: the attack is alerted, every request (attack included) is answered; the tcpdump recording replays to the same rule ids', async (t) => {
    const pcap = join(dir, 'recorded.pcap');
    const tcpdump = await lab.tcpdump('gw', 'mon0', pcap, 'tcp port 80');
    const daemon = await startDaemon(writeConfig('simulation'));
    t.after(() => daemon.stop('SIGKILL'));
    await sleep(300);
    const clean = lab.curl(`http://${SERVER_IP}/hello?q=world`);
    assert.deepEqual(clean, { rc: 0, body: 'ok /hello?q=world\n' });
    const attack = lab.curl(`http://${SERVER_IP}/search?q=attack`);
    assert.equal(attack.rc, 0, 'simulation never resets');
    assert.equal(attack.body, 'ok /search?q=attack\n');
    const evil = lab.curl(`http://${SERVER_IP}/x`, 3, ['-H', 'X-Evil: 1']);
    assert.equal(evil.rc, 0);
    const alerts = await alertsOf('simulation', 2);
    assert.deepEqual(alerts.map((a) => a['ruleIds']), [[1001], [1003]]);
    assert.deepEqual(alerts.map((a) => a['action']), ['detected', 'detected']);
    assert.equal(alerts[0]!['clientIp'], '10.71.0.1');
    assert.equal(alerts[0]!['uri'], '/search?q=attack');
    await sleep(1200);
    const stats = daemon.lines.filter((l) => l.includes('"sniff stats"')).map((l) => JSON.parse(l) as { stats: Record<string, number> }).pop();
    assert.ok(stats, 'a stats line is logged');
    assert.ok(stats.stats['packets']! >= 15, JSON.stringify(stats));
    assert.equal(stats.stats['requests'], 3);
    assert.equal(stats.stats['flows'], 3);
    assert.equal(stats.stats['pcapDrops'], 0);
    await daemon.stop('SIGTERM');
    await tcpdump.stop('SIGINT');
    assert.ok(existsSync(pcap), 'tcpdump recorded');
    let out = '';
    const stdout = new PassThrough().on('data', (d) => (out += d));
    const rc = await replayCommand.run([pcap, '-c', writeConfig('simulation'), '--json'], { stdout, stderr: new PassThrough() });
    assert.equal(rc, 0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.pop()!['summary'] as Record<string, unknown>;
    assert.deepEqual(lines.map((a) => a['ruleIds']), [[1001], [1003]]);
    assert.equal(summary['requests'], 3);
    assert.equal(summary['flows'], 3);
  });

  it('active: the attack gets a client-visible connection reset and a "connection reset" alert; clean traffic is unaffected', async (t) => {
    const daemon = await startDaemon(writeConfig('active'));
    t.after(() => daemon.stop('SIGKILL'));
    await sleep(300);
    assert.deepEqual(lab.curl(`http://${SERVER_IP}/fine`), { rc: 0, body: 'ok /fine\n' });
    const attack = lab.curl(`http://${SERVER_IP}/search?q=attack`);
    // curl 56: "Recv failure: Connection reset by peer"
    assert.equal(attack.rc, 56, `curl rc ${attack.rc} body ${attack.body}\n${daemon.output()}`);
    assert.equal(attack.body, '');
    assert.deepEqual(lab.curl(`http://${SERVER_IP}/after`), { rc: 0, body: 'ok /after\n' });
    // The same over IPv6 (decoder, reassembly and an IPv6 raw socket for the resets).
    assert.deepEqual(lab.curl(`http://[${SERVER_IP6}]/fine6`, 3, ['-g']), { rc: 0, body: 'ok /fine6\n' });
    const attack6 = lab.curl(`http://[${SERVER_IP6}]/search?q=attack`, 3, ['-g']);
    assert.equal(attack6.rc, 56, `IPv6: curl rc ${attack6.rc} body ${attack6.body}\n${daemon.output()}`);
    const alerts = await alertsOf('active', 4);
    const blocked = alerts.find((a) => JSON.stringify(a['ruleIds']) === '[1001]');
    assert.ok(blocked, JSON.stringify(alerts));
    assert.equal(blocked['action'], 'blocked');
    assert.equal(blocked['status'], 0);
    const reset = alerts.find((a) => (a['matches'] as { policy: string }[])[0]?.policy === 'connection-reset');
    assert.ok(reset, `a connection-reset alert: ${JSON.stringify(alerts)}`);
    assert.equal(reset['transactionId'], blocked['transactionId']);
    const blocked6 = alerts.find((a) => a['clientIp'] === 'fd71::1' && JSON.stringify(a['ruleIds']) === '[1001]');
    assert.ok(blocked6, JSON.stringify(alerts));
    assert.equal(blocked6['action'], 'blocked');
    await daemon.stop('SIGTERM');
  });

  it('portcullis capture records live traffic with libpcap into a file that replays', async () => {
    const file = join(dir, 'captured.pcap');
    const capture = await lab.startUntilOutput('gw', [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'capture', '-i', 'mon0',
      '--filter', 'tcp port 80', '-w', file, '--duration', '20', '-c', '1000'], 'capturing on');
    assert.deepEqual(lab.curl(`http://${SERVER_IP}/q?x=attack`), { rc: 0, body: 'ok /q?x=attack\n' });
    await sleep(300);
    const exited = new Promise<number | null>((resolve) => capture.child.once('exit', (code) => resolve(code)));
    capture.child.kill('SIGINT');
    assert.equal(await exited, 0, capture.output());
    assert.match(capture.output(), /captured \d+ packets \(\d+ bytes\), kernel drops 0/);
    let out = '';
    const stdout = new PassThrough().on('data', (d) => (out += d));
    assert.equal(await replayCommand.run([file, '-c', writeConfig('simulation'), '--json'], { stdout, stderr: new PassThrough() }), 0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.pop()!['summary'] as Record<string, unknown>;
    assert.deepEqual(lines.map((a) => a['ruleIds']), [[1001]]);
    assert.equal(summary['requests'], 1);
    assert.equal(summary['responses'], 1);
  });
});
