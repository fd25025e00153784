import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, freePort, get, runCli, spawnCli, startOrigin, tempDir, waitFor, writeConfig, type Origin } from '../daemon/daemon-fixtures.js';

interface WorkerStatus {
  pid: number;
  worker: string;
  requestsServed: number;
}

describe('portcullis run with gateway.workers: 2 (real processes)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let origins: { A: Origin; B: Origin };
  before(async () => {
    tmp = tempDir();
    origins = { A: await startOrigin('A'), B: await startOrigin('B') };
  });
  after(async () => {
    await origins.A.close();
    await origins.B.close();
    tmp.cleanup();
  });

  test('two workers serve, reload together, reject a bad file together, and a dead worker is replaced', async () => {
    const file = join(tmp.dir, 'workers.yaml');
    const socket = join(tmp.dir, 'workers.sock');
    const logFile = join(tmp.dir, 'workers.log');
    const port = await freePort();
    const plan = { socket, logFile, workers: 2, listeners: [{ port, originPort: origins.A.port }] };
    writeConfig(file, plan);
    const daemon = spawnCli(['run', '-c', file]);
    const status = async () => {
      const r = await runCli(['status', '--json', '--socket', socket]);
      if (r.code !== 0) return undefined;
      return JSON.parse(r.stdout) as { ok: boolean; pid: number; workers: number; workerStatus: WorkerStatus[]; requestsServed: number; lastReload: { ok: boolean; errors: string[] } | null };
    };
    try {
      const first = await waitFor('two workers', async () => {
        const s = await status();
        return s && s.workerStatus.length === 2 ? s : undefined;
      }, 30_000);
      assert.equal(first.pid, daemon.pid, 'the primary answers the control socket');
      const pids = first.workerStatus.map((w) => w.pid);
      assert.equal(new Set(pids).size, 2);
      assert.ok(!pids.includes(daemon.pid!), 'requests are served by worker processes');

      // New connections each time: both workers accept from the shared socket.
      for (let i = 0; i < 40; i++) assert.equal((await get(port, `/r${i}`)).body, `A /r${i}`);
      const served = await status();
      assert.equal(served!.requestsServed, 40);

      const port2 = await freePort();
      writeConfig(file, { ...plan, listeners: [{ port, originPort: origins.B.port }, { port: port2, originPort: origins.A.port }] });
      const reloaded = await runCli(['reload', '--socket', socket]);
      assert.equal(reloaded.code, 0, reloaded.stderr);
      assert.match(reloaded.stdout, new RegExp(`^reloaded in \\d+ ms; listeners added: 127\\.0\\.0\\.1:${port2}\n$`));
      for (let i = 0; i < 20; i++) assert.equal((await get(port, `/n${i}`)).body, `B /n${i}`, 'every worker switched');
      for (let i = 0; i < 10; i++) assert.equal((await get(port2, `/m${i}`)).body, `A /m${i}`, 'the added listener serves in every worker');

      writeConfig(file, { ...plan, extraGatewayYaml: '  colour: blue' });
      const rejected = await runCli(['reload', '--socket', socket]);
      assert.equal(rejected.code, 1);
      assert.match(rejected.stderr, /colour/);
      for (let i = 0; i < 10; i++) assert.equal((await get(port, `/k${i}`)).body, `B /k${i}`);

      // SIGHUP goes to the primary, which reloads every worker.
      writeConfig(file, { ...plan, listeners: [{ port, originPort: origins.A.port }] });
      daemon.kill('SIGHUP');
      await waitFor('the SIGHUP reload', async () => {
        const s = await status();
        return s?.lastReload?.ok === true ? s : undefined;
      });
      for (let i = 0; i < 10; i++) assert.equal((await get(port, `/h${i}`)).body, `A /h${i}`);
      await assert.rejects(get(port2, '/gone'), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');

      // A worker that dies is forked again.
      process.kill(pids[0]!, 'SIGKILL');
      const healed = await waitFor('a replacement worker', async () => {
        const s = await status();
        return s && s.workerStatus.length === 2 && !s.workerStatus.some((w) => w.pid === pids[0]) ? s : undefined;
      }, 30_000);
      assert.ok(healed.workerStatus.some((w) => w.pid === pids[1]), 'the other worker kept running');
      for (let i = 0; i < 10; i++) assert.equal((await get(port, `/z${i}`)).body, `A /z${i}`, 'the replacement runs the current configuration');
    } finally {
      daemon.kill('SIGTERM');
    }
    const end = await collect(daemon);
    assert.equal(end.code, 0, end.stderr);
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /"worker":"primary".*"msg":"worker died; forking a new one"/);
  });
});
