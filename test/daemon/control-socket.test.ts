import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { controlRequest } from '../../src/daemon/control-socket.js';
import { runDaemon } from '../../src/daemon/daemon.js';
import { DaemonError } from '../../src/daemon/errors.js';
import { freePort, get, startOrigin, tempDir, writeConfig, type Origin } from './daemon-fixtures.js';

function captureIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { io: { stdout, stderr }, text: () => ({ out, err }) };
}

/** Starts the one-process daemon in this process; resolves once it serves. */
async function startDaemon(file: string) {
  const cap = captureIo();
  let handle: { stop(): void } | null = null;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const exited = runDaemon(file, cap.io, {
    installSignals: false,
    onReady: (h) => {
      handle = h;
      markReady();
    },
  });
  await Promise.race([
    ready,
    exited.then((code) => {
      throw new Error(`the daemon exited with ${code}: ${cap.text().err}`);
    }),
  ]);
  return { exited, stop: () => handle!.stop(), text: cap.text };
}

describe('control socket', () => {
  let tmp: ReturnType<typeof tempDir>;
  let origin: Origin;
  before(async () => {
    tmp = tempDir();
    origin = await startOrigin('O');
  });
  after(async () => {
    await origin.close();
    tmp.cleanup();
  });

  test('reload, a rejected reload with every error, status, and bad requests', async () => {
    const file = join(tmp.dir, 'gw.yaml');
    // A socket in a directory that does not exist yet: the daemon creates it.
    const socket = join(tmp.dir, 'run', 'sub', 'control.sock');
    const port = await freePort();
    const plan = { socket, logFile: join(tmp.dir, 'gw.log'), listeners: [{ port, originPort: origin.port }] };
    writeConfig(file, plan);
    const daemon = await startDaemon(file);
    try {
      assert.equal(statSync(socket).mode & 0o777, 0o600, 'only the owner may reload');
      assert.equal((await get(port, '/x')).body, 'O /x');

      const ok = await controlRequest(socket, { cmd: 'reload' });
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assert.deepEqual(ok['errors'], []);

      writeConfig(file, { ...plan, extraGatewayYaml: '  colour: blue\n  limits: { maxHeaderCount: -1 }' });
      const rejected = await controlRequest(socket, { cmd: 'reload' });
      assert.equal(rejected.ok, false);
      const errors = rejected['errors'] as string[];
      assert.ok(errors.some((e) => e.includes(`${file}:`) && e.includes('colour')), errors.join('\n'));
      assert.ok(errors.some((e) => e.includes('maxHeaderCount')), errors.join('\n'));
      assert.equal((await get(port, '/still')).body, 'O /still', 'the running configuration stayed');

      const status = await controlRequest(socket, { cmd: 'status' });
      assert.equal(status.ok, true);
      assert.equal(status['pid'], process.pid);
      assert.equal(status['mode'], 'alias');
      assert.equal(status['configFile'], file);
      assert.equal(status['workers'], 1);
      assert.equal(typeof status['uptimeMs'], 'number');
      assert.equal(typeof status['loadedAt'], 'string');
      assert.equal(status['inFlight'], 0);
      assert.equal(status['requestsServed'], 2);
      assert.deepEqual((status['listeners'] as { key: string }[]).map((l) => l.key), [`127.0.0.1:${port}`]);
      assert.equal((status['lastReload'] as { ok: boolean }).ok, false);
      assert.deepEqual((status['lastReload'] as { errors: string[] }).errors, errors);

      const unknown = await controlRequest(socket, { cmd: 'explode' });
      assert.deepEqual(unknown, { ok: false, errors: ['unknown command "explode"; known: reload, status, health-log'] });

      const raw = await new Promise<string>((resolve, reject) => {
        const s = net.connect(socket, () => s.write('not json\n{"nocmd":1}\n'));
        let d = '';
        s.setEncoding('utf8');
        s.on('data', (c) => {
          d += c;
          if (d.split('\n').length > 2) {
            s.destroy();
            resolve(d);
          }
        });
        s.on('error', reject);
      });
      const [first, second] = raw.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; errors: string[] });
      assert.equal(first!.ok, false);
      assert.match(first!.errors[0]!, /not JSON/);
      assert.match(second!.errors[0]!, /needs a string "cmd"/);

      // A second daemon on the same socket is refused and says why.
      const other = join(tmp.dir, 'other.yaml');
      writeConfig(other, { ...plan, listeners: [{ port: await freePort(), originPort: origin.port }] });
      const third = captureIo();
      assert.equal(await runDaemon(other, third.io, { installSignals: false }), 1);
      assert.match(third.text().err, new RegExp(`another daemon is already running: its control socket ${socket.replace(/[.]/g, '\\.')} answers`));
    } finally {
      daemon.stop();
      assert.equal(await daemon.exited, 0);
    }
    assert.equal(existsSync(socket), false, 'the socket file is removed on stop');
    await assert.rejects(controlRequest(socket, { cmd: 'status' }), (err: unknown) => err instanceof DaemonError && err.code === 'ERR_DAEMON_NOT_RUNNING');
  });

  test('a stale socket left by a killed daemon is removed at start', async () => {
    const socket = join(tmp.dir, 'stale.sock');
    // A process that listens on the socket and dies without cleaning up.
    assert.throws(
      () =>
        execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`], {
          stdio: 'ignore',
        }),
      (err: { signal?: string }) => err.signal === 'SIGKILL',
    );
    assert.ok(existsSync(socket), 'the stale socket exists');
    await assert.rejects(controlRequest(socket, { cmd: 'status' }), (err: unknown) => err instanceof DaemonError && err.code === 'ERR_DAEMON_NOT_RUNNING');
    const file = join(tmp.dir, 'stale.yaml');
    writeConfig(file, { socket, logFile: join(tmp.dir, 'stale.log'), listeners: [{ port: await freePort(), originPort: origin.port }] });
    const daemon = await startDaemon(file);
    try {
      const status = await controlRequest(socket, { cmd: 'status' });
      assert.equal(status.ok, true);
    } finally {
      daemon.stop();
      assert.equal(await daemon.exited, 0);
    }
  });
});
