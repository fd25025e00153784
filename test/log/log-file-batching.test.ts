// The log file's batching (src/log/logger.ts LogFile): lines wait in memory at most LOG_FLUSH_MS, a batch
// of LOG_BATCH_CHARS is written at once, and a process that exits writes what is pending.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { LOG_BATCH_CHARS, LOG_FLUSH_MS, LogFile } from '../../src/log/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-log-batching-'));
const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

describe('log file batching', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('lines wait in memory, then are written together within LOG_FLUSH_MS', async () => {
    const file = join(dir, 'timed.log');
    const log = new LogFile(file);
    try {
      for (let i = 0; i < 50; i++) log.write(`{"n":${i}}\n`);
      // Not within the same event-loop turn: the batch is what makes one write(2) serve many lines.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(read(file), '');
      const started = Date.now();
      while (read(file) === '' && Date.now() - started < 5_000) await new Promise((resolve) => setTimeout(resolve, 5));
      const lines = read(file).trimEnd().split('\n').map((l) => (JSON.parse(l) as { n: number }).n);
      assert.deepEqual(lines, Array.from({ length: 50 }, (_, i) => i), 'all of them, in order, in one go');
      assert.ok(LOG_FLUSH_MS <= 100, 'a line never waits long');
    } finally {
      log.close();
    }
  });

  test('a batch of LOG_BATCH_CHARS is written at once, before any timer', () => {
    const file = join(dir, 'full.log');
    const log = new LogFile(file);
    try {
      const line = `{"pad":"${'x'.repeat(1000)}"}\n`;
      let written = 0;
      while (written < LOG_BATCH_CHARS) {
        log.write(line);
        written += line.length;
      }
      assert.equal(read(file).length, written, 'written synchronously when the batch filled up');
    } finally {
      log.close();
    }
  });

  test('a process that exits (process.exit, without flush or close) still writes its pending lines', () => {
    const file = join(dir, 'exit.log');
    const script = join(dir, 'exits.ts');
    const logger = fileURLToPath(new URL('../../src/log/logger.ts', import.meta.url));
    writeFileSync(script, `import { LogFile } from ${JSON.stringify(logger)};
const log = new LogFile(${JSON.stringify(file)});
log.write('{"last":"words"}\\n');
process.exit(3);
`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(run.status, 3, run.stderr);
    assert.equal(read(file), '{"last":"words"}\n');
  });

  test('close() writes what is pending and stops the timer; later lines are dropped', async () => {
    const file = join(dir, 'closed.log');
    const log = new LogFile(file);
    log.write('{"a":1}\n');
    log.close();
    assert.equal(read(file), '{"a":1}\n');
    log.write('{"b":2}\n');
    await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_MS * 3));
    assert.equal(read(file), '{"a":1}\n');
  });
});
