import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO, collect, freePort, get, tempDir, waitFor, writeConfig } from './daemon-fixtures.js';

test('bugs escaping request handling are logged with their stack and the daemon keeps serving', async () => {
  const tmp = tempDir();
  const port = await freePort();
  const logFile = join(tmp.dir, 'bug.log');
  const file = writeConfig(join(tmp.dir, 'bug.yaml'), { socket: join(tmp.dir, 'bug.sock'), logFile, listeners: [{ port, originPort: 9 }] });
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/daemon/fixtures/buggy-handler-daemon.ts'), file], {
    cwd: REPO,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const proc = Object.assign(child, { output: () => ({ stdout, stderr }) });
  try {
    await waitFor('the daemon', () => (stdout.includes('ready') ? true : undefined), 30_000);
    assert.equal((await get(port, '/throw-later')).body, 'answered anyway');
    assert.equal((await get(port, '/reject')).body, 'answered anyway');
    assert.equal((await get(port, '/')).body, 'alive', 'the daemon is still serving');
    const log = await waitFor('both bugs in the log', () => {
      const text = readFileSync(logFile, 'utf8');
      return text.includes('bug in a promise') && text.includes('bug thrown from a callback') ? text : undefined;
    });
    const lines = log.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; err?: { message: string; stack: string } });
    const thrown = lines.find((l) => l.err?.message === 'bug thrown from a callback');
    assert.equal(thrown?.msg, 'uncaught exception (a bug): logged, the daemon keeps running');
    assert.match(thrown!.err!.stack, /buggy-handler-daemon\.ts/);
    const rejected = lines.find((l) => l.err?.message === 'bug in a promise');
    assert.equal(rejected?.msg, 'unhandled promise rejection (a bug): logged, the daemon keeps running');
  } finally {
    child.kill('SIGTERM');
  }
  const end = await collect(proc);
  assert.equal(end.code, 0, end.stderr);
  tmp.cleanup();
});
