// The log file destination (src/log/logger.ts, LogFile): opened for appending, lines batched per event-loop
// turn and written synchronously. flush() must mean
// "every line logged before it is in the file", close() must end the file, and a file that cannot be
// written must cost the log lines only, never the process.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadGatewayConfig } from '../../src/daemon/gateway.js';
import { createRootLogger } from '../../src/log/logger.js';
import { configYaml, tempDir } from './daemon-fixtures.js';

describe('log file', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.cleanup());

  function configLoggingTo(logFile: string) {
    const file = join(tmp.dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, configYaml({ socket: join(tmp.dir, 's.sock'), logFile, listeners: [{ port: 1, originPort: 2 }], extraGatewayYaml: '' }));
    return loadGatewayConfig({ file });
  }

  test('flush() returns once every line logged before it is in the file; close() ends it; later lines are dropped quietly', async () => {
    const logFile = join(tmp.dir, 'a', 'gateway.log');
    const root = createRootLogger(configLoggingTo(logFile), { worker: '3' });
    const log = root.logger.child({ conn: 1 });
    for (let i = 0; i < 2000; i++) log.info({ id: `r-${i}`, path: '/x"y\\z', status: 200, error: null }, 'request');
    await root.flush();
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2000);
    assert.deepEqual(lines.map((l) => l['id']), Array.from({ length: 2000 }, (_, i) => `r-${i}`), 'in order, none lost or split');
    assert.deepEqual([lines[0]!['worker'], lines[0]!['conn'], lines[0]!['path'], lines[0]!['error'], lines[0]!['msg']], ['3', 1, '/x"y\\z', null, 'request']);
    assert.match(String(lines[0]!['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    root.logger.info('last words');
    await root.close();
    assert.match(readFileSync(logFile, 'utf8').trimEnd().split('\n').at(-1)!, /"msg":"last words"/);
    const stderr = await capturingStderr(async () => {
      root.logger.info('after close');
      await root.flush();
      // A stream reports a write after its end on a later tick.
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    assert.doesNotMatch(readFileSync(logFile, 'utf8'), /after close/);
    assert.equal(stderr, '', 'a line after close() is not reported as a write failure');
  });

  test('appends to an existing file', async () => {
    const logFile = join(tmp.dir, 'existing.log');
    writeFileSync(logFile, '{"earlier":true}\n');
    const root = createRootLogger(configLoggingTo(logFile), { worker: 'single' });
    root.logger.info('next');
    await root.close();
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    assert.equal(lines[0], '{"earlier":true}');
    assert.match(lines[1]!, /"msg":"next"/);
  });

  test('a log file that cannot be opened is reported once on stderr; logging goes on without throwing', async () => {
    const logFile = join(tmp.dir, 'is-a-directory.log');
    mkdirSync(logFile);
    const stderr = await capturingStderr(async () => {
      const root = createRootLogger(configLoggingTo(logFile), { worker: 'single' });
      root.logger.info('one');
      await root.flush();
      root.logger.info('two');
      await root.flush();
      await root.close();
    });
    const reports = stderr.split('\n').filter((w) => w.includes('cannot write the log file'));
    assert.equal(reports.length, 1, stderr);
    assert.match(reports[0]!, new RegExp(`${logFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: EISDIR`));
  });

  test('a log file whose writes fail (disk full: /dev/full) is reported once; logging goes on without throwing', async () => {
    const stderr = await capturingStderr(async () => {
      const root = createRootLogger(configLoggingTo('/dev/full'), { worker: 'single' });
      for (let i = 0; i < 3; i++) {
        root.logger.info({ i }, 'line');
        await root.flush();
      }
      // Lines batched within one event-loop turn fail together, and are reported no more than once either.
      for (let i = 0; i < 100; i++) root.logger.info({ i }, 'burst');
      await new Promise((resolve) => setImmediate(resolve));
      await root.close();
    });
    const reports = stderr.split('\n').filter((w) => w.includes('cannot write the log file'));
    assert.equal(reports.length, 1, stderr);
    assert.match(reports[0]!, /\/dev\/full: ENOSPC/);
  });
});

/** Runs `body` with process.stderr captured; returns what was written to it. */
async function capturingStderr(body: () => Promise<void>): Promise<string> {
  let written = '';
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    await body();
  } finally {
    process.stderr.write = original;
  }
  return written;
}
