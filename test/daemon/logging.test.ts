import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Gateway } from '../../src/daemon/gateway.js';
import { createAlertSink } from '../../src/log/alert-sink.js';
import { createRootLogger } from '../../src/log/logger.js';
import { loadGatewayConfig } from '../../src/daemon/gateway.js';
import { configYaml, freePort, get, startOrigin, tempDir, waitFor, type Origin } from './daemon-fixtures.js';

describe('logs and alerts', () => {
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

  function configWith(extraGatewayYaml: string, port = 1) {
    const file = join(tmp.dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, configYaml({ socket: join(tmp.dir, 's.sock'), logFile: join(tmp.dir, 'x.log'), listeners: [{ port, originPort: origin.port }], extraGatewayYaml }));
    return loadGatewayConfig({ file });
  }

  test('the root logger binds pid, mode and worker', async () => {
    const config = configWith('');
    const dest = new PassThrough();
    let text = '';
    dest.on('data', (d) => (text += d));
    const root = createRootLogger(config, { worker: '7', destination: dest });
    root.logger.child({ component: 'x' }).info({ k: 1 }, 'hello');
    await root.flush();
    const line = JSON.parse(text.trim()) as Record<string, unknown>;
    assert.deepEqual([line['pid'], line['mode'], line['worker'], line['component'], line['k'], line['msg']], [process.pid, 'alias', '7', 'x', 1, 'hello']);
    root.setLevel('error');
    root.logger.info('not shown');
    await root.flush();
    assert.equal(text.trim().split('\n').length, 1);
  });

  test('alerts go to gateway.alerts.file (directory created, one JSON line each), or to the log with type "alert"', async () => {
    const alertsFile = join(tmp.dir, 'deep', 'er', 'alerts.jsonl');
    const config = configWith(`  alerts: { file: ${JSON.stringify(alertsFile)} }`);
    const dest = new PassThrough();
    let text = '';
    dest.on('data', (d) => (text += d));
    const { logger } = createRootLogger(config, { worker: 'single', destination: dest });
    const sink = createAlertSink(config, logger);
    sink.write({ transactionId: 'a', ruleIds: ['1'] });
    sink.write({ transactionId: 'b', ruleIds: ['2', '3'] });
    await sink.close();
    const lines = readFileSync(alertsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { transactionId: string });
    assert.deepEqual(lines.map((l) => l.transactionId), ['a', 'b']);

    const toLog = createAlertSink(configWith(''), logger);
    toLog.write({ transactionId: 'c' });
    await new Promise<void>((r) => logger.flush(() => r()));
    const logged = JSON.parse(text.trim().split('\n').pop()!) as { type: string; alert: { transactionId: string } };
    assert.equal(logged.type, 'alert');
    assert.equal(logged.alert.transactionId, 'c');
  });

  test('a blocking rule in an active group: 403 to the client and an alert line in the alerts file', async () => {
    const port = await freePort();
    const alertsFile = join(tmp.dir, 'gw-alerts.jsonl');
    const file = join(tmp.dir, 'active.yaml');
    const yaml = configYaml({
      socket: join(tmp.dir, 'a.sock'),
      logFile: join(tmp.dir, 'a.log'),
      listeners: [{ port, originPort: origin.port }],
      extraGatewayYaml: `  alerts: { file: ${JSON.stringify(alertsFile)} }`,
    })
      .replace('operationMode: simulation', 'operationMode: active')
      .replace(
        '        services:',
        `        policies:
          native:
            rules:
              - { id: 990001, name: no admin, match: { path: { kind: prefix, value: /admin } } }
        services:`,
      );
    writeFileSync(file, yaml);
    const gateway = await Gateway.start({ file }, { worker: 'single', checkAddresses: true });
    try {
      assert.equal((await get(port, '/public')).status, 200);
      assert.equal((await get(port, '/admin/x')).status, 403);
      const alert = await waitFor('the alert line', () => {
        try {
          const line = readFileSync(alertsFile, 'utf8').trim();
          return line ? (JSON.parse(line.split('\n')[0]!) as Record<string, unknown>) : undefined;
        } catch {
          return undefined;
        }
      });
      assert.match(JSON.stringify(alert), /990001/);
    } finally {
      await gateway.stop();
    }
  });
});
