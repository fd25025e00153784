/**
 * The daemon side of the health log: a one-process daemon with a pooled rule runs the checks, answers
 * `portcullis health-log` (text, --json, --follow) over its control socket, keeps the ring across a
 * reload, and stops the checks of the configuration it replaced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { controlRequest } from '../../src/daemon/control-socket.js';
import { runDaemon } from '../../src/daemon/daemon.js';
import type { HealthLogEntry } from '../../src/pools/health-log.js';
import { closedPort, startOrigins } from './pool-gateway.js';
import { collect, spawnCli } from '../daemon/daemon-fixtures.js';

function configText(dir: string, socket: string, listenPort: number, servers: ReadonlyArray<number>): string {
  return `gateway:
  mode: alias
  skipAddressCheck: true
  log: { level: info, file: ${join(dir, 'gateway.log')}, accessLog: false }
  control: { socket: ${socket} }
  aliases:
    - { name: vip, device: lo, address: 127.0.0.1/8 }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [${listenPort}]
            reverseProxy:
              - alias: vip
                port: ${listenPort}
                rules:
                  - priority: 10
                    pool:
                      servers: [${servers.map((p) => `{ address: 127.0.0.1, port: ${p} }`).join(', ')}]
                      healthCheck: { url: /healthz, intervalMs: 150, timeoutMs: 150, host: health.example }
`;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdout, stderr });
  return { code, out, err };
}

test('portcullis health-log reads the ring of the running daemon; the ring survives a reload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-healthlog-'));
  const socket = join(dir, 'control.sock');
  const file = join(dir, 'portcullis.yaml');
  const [a, b] = await startOrigins(['a', 'b']);
  const dead = await closedPort();
  const listenPort = await closedPort();
  writeFileSync(file, configText(dir, socket, listenPort, [a!.port, dead]));
  let stop!: () => void;
  const ready = new Promise<void>((resolve) => {
    void runDaemon(file, { stdout: new PassThrough(), stderr: new PassThrough() }, {
      installSignals: false,
      onReady: (handle) => { stop = handle.stop; resolve(); },
    }).then((code) => assert.equal(code, 0));
  });
  try {
    await ready;
    const entries = async (): Promise<HealthLogEntry[]> => (await controlRequest(socket, { cmd: 'health-log' })).entries as HealthLogEntry[];
    const deadline = Date.now() + 5000;
    let seen: HealthLogEntry[] = [];
    while (Date.now() < deadline) {
      seen = await entries();
      if (seen.some((e) => e.server === `127.0.0.1:${a!.port}` && e.ok) && seen.some((e) => e.server === `127.0.0.1:${dead}`)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const human = await cli(['health-log', '--socket', socket]);
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, new RegExp(`^\\S+Z  127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${a!.port}  http://127\\.0\\.0\\.1:${a!.port}/healthz  200 ok  \\d+\\.\\d ms$`, 'm'));
    assert.match(human.out, new RegExp(`^\\S+Z  - -> 127\\.0\\.0\\.1:${dead}  http://127\\.0\\.0\\.1:${dead}/healthz  FAILED ECONNREFUSED  \\d+\\.\\d ms$`, 'm'));

    const json = await cli(['health-log', '--json', '--socket', socket]);
    assert.equal(json.code, 0, json.err);
    const lines = json.out.trim().split('\n').map((l) => JSON.parse(l) as HealthLogEntry);
    assert.ok(lines.length >= 2);
    assert.deepEqual(Object.keys(lines[0]!).sort(), ['error', 'gateway', 'latencyMs', 'ok', 'seq', 'server', 'status', 'time', 'url']);

    // Reload onto b only: entries from before stay, a and the dead server are no longer checked.
    const before = (await entries()).at(-1)!.seq;
    writeFileSync(file, configText(dir, socket, listenPort, [b!.port]));
    const reload = await cli(['reload', '--socket', socket]);
    assert.equal(reload.code, 0, reload.err);
    const reloadedAt = (await entries()).at(-1)!.seq;
    // Wait (bounded) until checks made after the reload are logged: a busy machine delays them.
    let after: HealthLogEntry[] = [];
    let newer: HealthLogEntry[] = [];
    for (const until = Date.now() + 5000; Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 100));
      after = await entries();
      newer = after.filter((e) => e.seq > reloadedAt + 2);
      if (newer.length >= 3) break;
    }
    assert.ok(after[0]!.seq <= before, 'the ring kept the entries from before the reload');
    assert.ok(newer.length > 0 && newer.every((e) => e.server === `127.0.0.1:${b!.port}`),
      `only b is checked after the reload: ${[...new Set(newer.map((e) => e.server))].join(', ')}`);

    // --follow prints only what is new, and ends when the daemon stops.
    const followFrom = (await entries()).at(-1)!.seq;
    const following = cli(['health-log', '--follow', '--json', '--interval', '50', '--socket', socket]);
    // Let a few new checks happen (bounded wait: a busy machine delays them), then stop the daemon.
    for (const until = Date.now() + 5000; Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 100));
      if ((await entries()).at(-1)!.seq >= followFrom + 3) break;
    }
    await new Promise((r) => setTimeout(r, 150));
    stop();
    const followed = await following;
    assert.equal(followed.code, 0, followed.err);
    assert.match(followed.err, /the daemon stopped/);
    const seqs = followed.out.trim().split('\n').map((l) => (JSON.parse(l) as HealthLogEntry).seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0]! + i), 'no entry twice, none skipped');
  } finally {
    stop?.();
    await a!.kill();
    await b!.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cluster mode: portcullis health-log merges the rings of the workers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-healthlog-cluster-'));
  const socket = join(dir, 'control.sock');
  const file = join(dir, 'portcullis.yaml');
  const [a] = await startOrigins(['a']);
  const listenPort = await closedPort();
  writeFileSync(file, configText(dir, socket, listenPort, [a!.port]).replace('  skipAddressCheck: true\n', '  skipAddressCheck: true\n  workers: 2\n'));
  const daemon = spawnCli(['run', '-c', file]);
  try {
    let entries: Array<HealthLogEntry & { worker: string }> = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await cli(['health-log', '--json', '--socket', socket]);
      entries = r.code === 0 ? r.out.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)) : [];
      if (new Set(entries.map((e) => e.worker)).size === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(new Set(entries.map((e) => e.worker)).size, 2, `both workers' checks: ${daemon.output().stderr}`);
    assert.ok(entries.every((e) => e.server === `127.0.0.1:${a!.port}`));
    for (const w of new Set(entries.map((e) => e.worker))) assert.ok(entries.some((e) => e.worker === w && e.ok), `worker ${w} saw a good check`);
    assert.deepEqual(entries.map((e) => e.time), entries.map((e) => e.time).sort((x, y) => x - y), 'merged by time');
    const reply = await controlRequest(socket, { cmd: 'health-log' });
    const cursor = reply.lastSeq as Record<string, number>;
    assert.equal(Object.keys(cursor).length, 2);
    const later = await controlRequest(socket, { cmd: 'health-log', after: cursor });
    assert.ok((later.entries as HealthLogEntry[]).every((e) => e.seq > cursor[(e as HealthLogEntry & { worker: string }).worker]!), 'the cursor is per worker');
    const human = await cli(['health-log', '--socket', socket]);
    assert.match(human.out, /^\S+Z  worker \d+  127\.0\.0\.1:\d+ -> /m);
  } finally {
    daemon.kill('SIGTERM');
    await collect(daemon);
    await a!.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
