import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DaemonError } from '../../src/daemon/errors.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { configYaml, freePort, get, startOrigin, tempDir, writeConfig, type ConfigPlan, type Origin } from './daemon-fixtures.js';
import { fixedRuntimeFactory, type FixedRuntimeRecord } from './fixed-runtime.js';
import { runReloadScenario } from './reload-scenario.js';
import { writeFileSync } from 'node:fs';

describe('Gateway (alias runtime, real sockets)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let origins: Record<'A' | 'B' | 'C', Origin>;
  let base: Pick<ConfigPlan, 'socket' | 'logFile'>;

  before(async () => {
    tmp = tempDir();
    origins = { A: await startOrigin('A'), B: await startOrigin('B'), C: await startOrigin('C') };
    base = { socket: join(tmp.dir, 'control.sock'), logFile: join(tmp.dir, 'gateway.log') };
  });
  after(async () => {
    await Promise.all(Object.values(origins).map((o) => o.close()));
    tmp.cleanup();
  });

  test('reload under load: 5 reloads (new origin, invalid file, added and removed listener) with zero failed requests', async () => {
    const file = join(tmp.dir, 'load.yaml');
    const port = await freePort();
    writeConfig(file, { ...base, listeners: [{ port, originPort: origins.A.port }] });
    const gateway = await Gateway.start({ file }, { worker: 'single', checkAddresses: true });
    try {
      const sent = await runReloadScenario({ file, base, origins, port, reload: () => gateway.reload() });
      const status = gateway.status();
      assert.equal(status.lastReload?.ok, true);
      assert.ok(status.requestsServed >= sent);
      assert.deepEqual(status.listeners.map((l) => l.key), [`127.0.0.1:${port}`]);
    } finally {
      await gateway.stop();
    }
  });

  test('an idle keep-alive connection survives a reload; its next request uses the new configuration', async () => {
    const file = join(tmp.dir, 'idle.yaml');
    const port = await freePort();
    writeConfig(file, { ...base, listeners: [{ port, originPort: origins.A.port }] });
    const gateway = await Gateway.start({ file }, { worker: 'single', checkAddresses: true });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await get(port, '/1', agent)).body, 'A /1');
      writeConfig(file, { ...base, listeners: [{ port, originPort: origins.B.port }] });
      assert.equal((await gateway.reload()).ok, true);
      const next = await get(port, '/2', agent);
      assert.equal(next.body, 'B /2');
      assert.equal(next.reusedSocket, true);
    } finally {
      agent.destroy();
      await gateway.stop();
    }
  });

  test('refuses to start when an alias address is missing, with the fix in the message', async () => {
    const file = join(tmp.dir, 'missing-alias.yaml');
    writeConfig(file, {
      ...base,
      skipAddressCheck: false,
      alias: { device: 'lo', address: '10.30.0.100/24' },
      listeners: [{ port: await freePort(), originPort: origins.A.port }],
    });
    await assert.rejects(Gateway.start({ file }, { worker: 'single', checkAddresses: true }), (err: unknown) => {
      assert.ok(err instanceof DaemonError);
      assert.equal(err.code, 'ERR_ALIAS_ADDRESS_MISSING');
      assert.match(err.message, new RegExp(`^alias vip1 address 10\\.30\\.0\\.100 is not configured on device lo; run iptables/alias\\.sh up -c ${file.replace(/[.]/g, '\\.')} \\(${file.replace(/[.]/g, '\\.')}:\\d+:\\d+\\)$`));
      return true;
    });
    // The same file passes when the address is on the device under an `ip addr … label lo:1` label.
    const port = await freePort();
    writeConfig(file, { ...base, skipAddressCheck: false, alias: { device: 'lo', address: '127.0.0.1/8' }, listeners: [{ port, originPort: origins.A.port }] });
    const labelled = () => ({ 'lo:1': [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' as const, mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }] });
    const gateway = await Gateway.start({ file }, { worker: 'single', checkAddresses: true, interfaces: labelled });
    await gateway.stop();
  });

  test('policy rules that fail to load reject the reload with every problem; the running rules stay', async () => {
    const file = join(tmp.dir, 'rules.yaml');
    const port = await freePort();
    const good = configYaml({ ...base, listeners: [{ port, originPort: origins.A.port }] });
    writeFileSync(file, good);
    const gateway = await Gateway.start({ file }, { worker: 'single', checkAddresses: true });
    try {
      assert.equal(gateway.status().inspection, true, 'the policy engine is part of this build');
      const badRules = good.replace(
        '        services:',
        `        policies:
          secLang:
            directives: |
              SecRule ARGS "@rx a" "id:1001,phase:2,deny,nosuchaction"
              SecRule ARGS "@nosuchop b" "id:1002,phase:2,deny"
        services:`,
      );
      writeFileSync(file, badRules);
      const result = await gateway.reload();
      assert.equal(result.ok, false);
      assert.match(result.errors[0]!, /^the policy rules failed to load \(2 problems\)$/);
      assert.ok(result.errors.some((e) => e.includes('1001') || e.includes('nosuchaction')), result.errors.join('\n'));
      assert.ok(result.errors.some((e) => e.includes('1002') || e.includes('nosuchop')), result.errors.join('\n'));
      assert.equal((await get(port, '/still')).body, 'A /still');
    } finally {
      await gateway.stop();
    }
  });

  test('an invalid file at start lists every error', async () => {
    const file = join(tmp.dir, 'invalid.yaml');
    writeFileSync(file, configYaml({ ...base, listeners: [{ port: 70000, originPort: origins.A.port }], extraGatewayYaml: '  colour: blue' }));
    await assert.rejects(Gateway.start({ file }, { worker: 'single', checkAddresses: true }), (err: unknown) => {
      assert.ok(err instanceof DaemonError);
      assert.equal(err.code, 'ERR_CONFIG_INVALID');
      assert.match(err.message, /the configuration is invalid \(\d+ errors\)/);
      assert.ok(err.details.some((d) => d.includes('colour')), err.details.join('\n'));
      assert.ok(err.details.some((d) => d.includes('70000')), err.details.join('\n'));
      return true;
    });
  });
});

describe('Gateway runtime lifecycle (fixed runtime)', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.cleanup());

  test('the old runtime is closed only after its in-flight request finished; that request completes', async () => {
    const records: FixedRuntimeRecord[] = [];
    const file = join(tmp.dir, 'fixed.yaml');
    const port = await freePort();
    const plan = { socket: join(tmp.dir, 'c.sock'), logFile: join(tmp.dir, 'g.log') };
    writeConfig(file, { ...plan, listeners: [{ port, originPort: 1111 }] });
    const gateway = await Gateway.start({ file }, { worker: 'single', checkAddresses: true, runtimeFactory: fixedRuntimeFactory(400, records) });
    try {
      const slow = get(port, '/slow');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(gateway.status().inFlight, 1);
      writeConfig(file, { ...plan, listeners: [{ port, originPort: 2222 }] });
      const result = await gateway.reload();
      assert.equal(result.ok, true);
      assert.equal((await slow).body, 'fixed:1111 /slow', 'the in-flight request finished on the old runtime');
      assert.equal((await get(port, '/after')).body, 'fixed:2222 /after');
      await new Promise((r) => setTimeout(r, 50));
      const old = records.find((r) => r.marker === 'fixed:1111')!;
      assert.ok(old.closeCalledAt !== null && old.closedAt !== null, 'close() was called and finished');
      assert.ok(old.closedAt - old.closeCalledAt >= 200, `close waited for the in-flight request (${old.closedAt - old.closeCalledAt} ms)`);
    } finally {
      await gateway.stop();
    }
    assert.ok(records.every((r) => r.closedAt !== null), 'stop() closed every runtime');
  });

  test('status() reports the current runtime\'s own counters (ModeRuntime.stats), and the new runtime\'s after a reload', async () => {
    const records: FixedRuntimeRecord[] = [];
    const file = join(tmp.dir, 'stats.yaml');
    const port = await freePort();
    const plan = { socket: join(tmp.dir, 's.sock'), logFile: join(tmp.dir, 's.log') };
    writeConfig(file, { ...plan, listeners: [{ port, originPort: 3333 }] });
    const fixed = fixedRuntimeFactory(0, records);
    let built = 0;
    const gateway = await Gateway.start({ file }, {
      worker: 'single', checkAddresses: true,
      runtimeFactory: (config, deps) => {
        const generation = ++built;
        return { ...fixed(config, deps), stats: () => ({ packets: 100 * generation, gaps: generation }) };
      },
    });
    try {
      assert.deepEqual(gateway.status().modeStats, { packets: 100, gaps: 1 });
      writeConfig(file, { ...plan, listeners: [{ port, originPort: 4444 }] });
      assert.equal((await gateway.reload()).ok, true);
      assert.deepEqual(gateway.status().modeStats, { packets: 200, gaps: 2 });
    } finally {
      await gateway.stop();
    }
  });

  test('status() has no mode counters when the runtime has none', async () => {
    const file = join(tmp.dir, 'nostats.yaml');
    const port = await freePort();
    writeConfig(file, { socket: join(tmp.dir, 'n.sock'), logFile: join(tmp.dir, 'n.log'), listeners: [{ port, originPort: 5555 }] });
    const gateway = await Gateway.start({ file }, { worker: 'single', checkAddresses: true, runtimeFactory: fixedRuntimeFactory(0, []) });
    try {
      assert.equal(gateway.status().modeStats, null);
    } finally {
      await gateway.stop();
    }
  });
});
