import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { controlRequest } from '../../src/daemon/control-socket.js';
import { collect, freePort, get, spawnCli, startOrigin, tempDir, waitFor, writeConfig } from '../daemon/daemon-fixtures.js';
import { runReloadScenario, type ReloadAnswer } from '../daemon/reload-scenario.js';

for (const workers of [1, 2]) {
  test(`portcullis run (workers: ${workers}) reloaded 5 times under load through the control socket: zero failed requests`, async () => {
    const tmp = tempDir();
    const origins = { A: await startOrigin('A'), B: await startOrigin('B'), C: await startOrigin('C') };
    const file = join(tmp.dir, 'load.yaml');
    const socket = join(tmp.dir, 'load.sock');
    const base = { socket, logFile: join(tmp.dir, 'load.log'), workers };
    const port = await freePort();
    writeConfig(file, { ...base, listeners: [{ port, originPort: origins.A.port }] });
    const daemon = spawnCli(['run', '-c', file]);
    try {
      // Ready = answering on the control socket (with workers, they serve a moment before the primary's socket exists).
      await waitFor('the daemon', async () => ((await controlRequest(socket, { cmd: 'status' })).ok ? true : undefined), 30_000);
      assert.equal((await get(port, '/up')).body, 'A /up');
      await runReloadScenario({
        file,
        base,
        origins,
        port,
        reload: async () => (await controlRequest(socket, { cmd: 'reload' })) as unknown as ReloadAnswer,
      });
    } finally {
      daemon.kill('SIGTERM');
      const end = await collect(daemon);
      await Promise.all(Object.values(origins).map((o) => o.close()));
      tmp.cleanup();
      assert.equal(end.code, 0, end.stderr);
    }
  });
}
