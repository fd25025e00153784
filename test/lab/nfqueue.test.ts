/**
 * NFQUEUE inline verdicts on the real kernel: iptables/nfqueue.sh installs `-j NFQUEUE --queue-bypass`
 * rules in the server's namespace and the verdict reader (as sniff mode runs it) accepts, drops by
 * port and by blocked flow, restarts cleanly, and traffic bypasses the queue while no reader is bound.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertLabAvailable, labSkip, sleep, type LabProcess } from './lab-harness.js';
import { CLIENT_IP, SERVER_IP, SniffLab } from './sniff-lab.js';
import { sniffConfigText } from '../packet/sniff-config.js';

const skip = labSkip();

describe('NFQUEUE verdicts in the netns lab', { skip, timeout: 180_000 }, () => {
  const lab = new SniffLab('nfq');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-nfq-lab-'));
  let driver: LabProcess | null = null;

  before(async () => {
    assertLabAvailable();
    lab.up();
    await lab.node('server', 'test/sniff/lab-origin.ts', [SERVER_IP, '0', '8080', '8081'], (l) => l === 'ready');
  });

  after(async () => {
    await lab.stopAll();
    lab.down();
    rmSync(dir, { recursive: true, force: true });
  });

  const script = (...args: string[]) => lab.exec('server', ['iptables/nfqueue.sh', ...args]);
  const url = (port: number) => `http://${SERVER_IP}:${port}/p`;

  /** Sends a command to the driver and waits for its answer line. */
  const ask = async (cmd: string, answer: (line: string) => boolean): Promise<string> => {
    const d = driver!;
    const seen = d.lines.length;
    d.child.stdin!.write(`${cmd}\n`);
    for (let i = 0; i < 200; i++) {
      const line = d.lines.slice(seen).find(answer);
      if (line !== undefined) return line;
      await sleep(50);
    }
    throw new Error(`driver did not answer ${cmd}: ${d.output()}`);
  };

  it('rules are installed with --queue-bypass: without a reader traffic passes', () => {
    const up = script('up', '--chain', 'INPUT', '--ports', '8080,8081', '--queue', '0');
    assert.equal(up.status, 0, up.stderr);
    const rules = lab.exec('server', ['iptables', '-S', 'PORTCULLIS_NFQ0']).stdout;
    assert.match(rules, /-j NFQUEUE --queue-num 0 --queue-bypass/);
    assert.deepEqual(lab.curl(url(8080)), { rc: 0, body: 'ok /p\n' });
    assert.deepEqual(lab.curl(url(8081)), { rc: 0, body: 'ok /p\n' });
    const status = script('status', '--queue', '0');
    assert.match(status.stdout, /reader: NOT bound/);
  });

  it('the reader accepts clean traffic and drops a denied port', async () => {
    driver = await lab.node('server', 'test/sniff/nfqueue-driver.ts', [JSON.stringify({ queue: 0, denyPorts: [8081] })], (l) => l === 'ready', true);
    assert.match(script('status', '--queue', '0').stdout, /reader: bound/);
    assert.deepEqual(lab.curl(url(8080)), { rc: 0, body: 'ok /p\n' });
    assert.equal(lab.curl(url(8081), 2).rc, 28, 'timed out: the SYNs were dropped');
    await sleep(1100);
    const stats = JSON.parse(await ask('stats', (l) => l.startsWith('{'))) as { accepted: number; dropped: number; byReason: Record<string, number> };
    assert.ok(stats.accepted >= 3, JSON.stringify(stats));
    assert.ok(stats.byReason['deny-port']! >= 1, JSON.stringify(stats));
  });

  it('drops the packets of a flow the engine blocked, and only that flow', async () => {
    await ask(`block ${CLIENT_IP} 45000 ${SERVER_IP} 8080`, (l) => l === 'done');
    assert.equal(lab.curl(url(8080), 2, ['--local-port', '45000']).rc, 28);
    assert.deepEqual(lab.curl(url(8080), 2, ['--local-port', '45001']), { rc: 0, body: 'ok /p\n' });
  });

  it('restarts the reader cleanly: verdicts and blocked flows survive', async () => {
    await ask('restart', (l) => l === 'done');
    assert.deepEqual(lab.curl(url(8080)), { rc: 0, body: 'ok /p\n' });
    assert.equal(lab.curl(url(8081), 2).rc, 28);
    assert.equal(lab.curl(url(8080), 2, ['--local-port', '45000']).rc, 28);
    await sleep(1100);
    const stats = JSON.parse(await ask('stats', (l) => l.startsWith('{'))) as { restarts: number; running: boolean; overruns: number };
    assert.equal(stats.restarts, 1);
    assert.equal(stats.running, true);
    assert.equal(stats.overruns, 0);
  });


  it('counts and alerts queue overruns (reader stalled, queue full)', async () => {
    const pid = Number((await ask('pid', (l) => l.startsWith('pid '))).slice(4));
    assert.ok(pid > 0);
    process.kill(pid, 'SIGSTOP');
    try {
      // 1500 SYNs while nobody reads: the queue (1024 packets by default) overflows.
      const burst = lab.exec('client', ['bash', '-c', `ulimit -n 4096; python3 -c "
import socket, time
ss = []
for i in range(1500):
    s = socket.socket(); s.setblocking(False); s.connect_ex(('${SERVER_IP}', 8080)); ss.append(s)
time.sleep(0.5)
"`], 20_000);
      assert.equal(burst.status, 0, burst.stderr);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let stats: { overruns: number; alerts: { reason: string; detail: string }[] } = { overruns: 0, alerts: [] };
    for (let i = 0; i < 30 && stats.alerts.length === 0; i++) {
      await sleep(200);
      stats = JSON.parse(await ask('stats', (l) => l.startsWith('{')));
    }
    assert.ok(stats.overruns > 0, JSON.stringify(stats));
    assert.equal(stats.alerts[0]?.reason, 'nfqueue-overrun');
    assert.match(stats.alerts[0]!.detail, /packets dropped by the kernel/);
    assert.deepEqual(lab.curl(url(8080)), { rc: 0, body: 'ok /p\n' }, 'verdicts go on after the overrun');
  });

  it('while the reader is down the queue is bypassed (fail-open); nfqueue.sh down removes the rules', async () => {
    await ask('stop', (l) => l === 'stopped');
    await sleep(200);
    assert.deepEqual(lab.curl(url(8081)), { rc: 0, body: 'ok /p\n' });
    const down = script('down', '--chain', 'INPUT', '--queue', '0');
    assert.equal(down.status, 0, down.stderr);
    assert.notEqual(lab.exec('server', ['iptables', '-S', 'PORTCULLIS_NFQ0']).status, 0, 'the chain is gone');
    assert.equal(script('status', '--queue', '0').status, 3);
  });

  it('sniff mode runs the reader from gateway.nfqueue: verdicts while the daemon runs, bypass once it stopped', async (t) => {
    assert.equal(script('up', '--chain', 'INPUT', '--ports', '8080,8081', '--queue', '0').status, 0);
    const file = join(dir, 'sniff-nfq.yaml');
    const gateway = `  control: { socket: ${join(dir, 'control.sock')} }\n  nfqueue: { enabled: true, queue: 0, denyPorts: [8081] }`;
    writeFileSync(file, sniffConfigText('simulation', SERVER_IP, 's0', gateway));
    const daemon = await lab.start('server', [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'run', '-c', file], (l) => l.includes('"daemon ready"'));
    t.after(() => daemon.stop('SIGKILL'));
    assert.ok(daemon.lines.some((l) => l.includes('NFQUEUE verdicts running')), daemon.output());
    assert.deepEqual(lab.curl(url(8080)), { rc: 0, body: 'ok /p\n' });
    assert.equal(lab.curl(url(8081), 2).rc, 28);
    await daemon.stop('SIGTERM');
    await sleep(200);
    assert.deepEqual(lab.curl(url(8081)), { rc: 0, body: 'ok /p\n' }, 'the reader went with the daemon: bypass');
    assert.equal(script('down', '--chain', 'INPUT', '--queue', '0').status, 0);
  });
});
