import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { main } from '../../src/cli/main.js';
import {
  REPO,
  collect,
  freePort,
  get,
  runCli,
  spawnCli,
  startOrigin,
  tempDir,
  waitFor,
  writeConfig,
  type Origin,
} from '../daemon/daemon-fixtures.js';

async function inProcess(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(argv, { stdout, stderr });
  return { code, out, err };
}

describe('portcullis command line', () => {
  test('--help on every command exits 0 and shows that command\'s usage', async () => {
    for (const command of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const r = await inProcess([command.name, flag]);
        assert.equal(r.code, 0, `${command.name} ${flag}`);
        assert.match(r.out, new RegExp(`^Usage: portcullis ${command.name}`), `${command.name} ${flag}`);
        assert.match(r.out, /Exit codes:/, `${command.name} documents its exit codes`);
      }
    }
    const top = await inProcess(['--help']);
    assert.equal(top.code, 0);
    for (const command of COMMANDS.filter((c) => !c.hidden)) assert.match(top.out, new RegExp(`^  ${command.name} `, 'm'));
    assert.doesNotMatch(top.out, /^  aliases /m, 'internal commands are not listed');
  });

  test('usage errors exit 2, name the problem and point at --help', async () => {
    const none = await inProcess([]);
    assert.equal(none.code, 2);
    assert.match(none.err, /^Usage: portcullis COMMAND/);
    const unknown = await inProcess(['frobnicate']);
    assert.deepEqual(unknown, { code: 2, out: '', err: 'portcullis: unknown command "frobnicate"; see portcullis --help\n' });
    const flag = await inProcess(['status', '--frob']);
    assert.deepEqual(flag, { code: 2, out: '', err: 'portcullis: unknown option --frob for "portcullis status"; see portcullis status --help\n' });
    const positional = await inProcess(['run', 'extra.yaml']);
    assert.equal(positional.code, 2);
    assert.match(positional.err, /unexpected argument extra\.yaml for "portcullis run"; see portcullis run --help/);
    const missingValue = await inProcess(['reload', '--socket']);
    assert.equal(missingValue.code, 2);
    assert.match(missingValue.err, /--socket/);
    const aliasesText = await inProcess(['aliases']);
    assert.equal(aliasesText.code, 2);
    assert.match(aliasesText.err, /pass --json/);
  });

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    assert.deepEqual(await inProcess(['--version']), { code: 0, out: `portcullis ${pkg.version}\n`, err: '' });
  });

  test('reload and status exit 3 when no daemon runs (real process)', async () => {
    const tmp = tempDir();
    try {
      const socket = join(tmp.dir, 'none.sock');
      for (const cmd of ['reload', 'status']) {
        const r = await runCli([cmd, '--socket', socket]);
        assert.equal(r.code, 3, `${cmd}: ${r.stderr}`);
        assert.equal(r.stderr, `portcullis: no daemon is running (nothing listens on ${socket}); start it with "portcullis run" (or pass --socket PATH)\n`);
      }
      const unknown = await runCli(['bogus']);
      assert.equal(unknown.code, 2);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('portcullis run (real process)', () => {
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

  test('an invalid configuration exits 1 listing every error', async () => {
    const file = join(tmp.dir, 'bad.yaml');
    writeConfig(file, {
      socket: join(tmp.dir, 'bad.sock'),
      logFile: join(tmp.dir, 'bad.log'),
      listeners: [{ port: 0, originPort: origins.A.port }],
      extraGatewayYaml: '  colour: blue',
    });
    const r = await runCli(['run', '-c', file]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    // port 0 is wrong twice (service ports and reverse-proxy port) and colour is unknown: 3 errors, each listed.
    assert.equal(lines[0], `${file}: the configuration is invalid (3 errors)`);
    assert.equal(lines.length, 4, r.stderr);
    assert.ok(lines.some((l) => l.includes(`${file}:`) && l.includes('colour')), r.stderr);
    assert.ok(lines.some((l) => l.includes(`${file}:`) && l.includes('port')), r.stderr);
  });

  test('a missing alias address: exit 1 with how to fix it', async () => {
    const file = join(tmp.dir, 'alias.yaml');
    writeConfig(file, {
      socket: join(tmp.dir, 'alias.sock'),
      logFile: join(tmp.dir, 'alias.log'),
      skipAddressCheck: false,
      alias: { device: 'lo', address: '10.30.0.100/24' },
      listeners: [{ port: await freePort(), originPort: origins.A.port }],
    });
    const r = await runCli(['run', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^alias vip1 address 10\\.30\\.0\\.100 is not configured on device lo; run iptables/alias\\.sh up -c ${file}`));
  });

  test('serves, reloads on SIGHUP and `portcullis reload`, rejects a bad file, reports status, stops on SIGTERM', async () => {
    const file = join(tmp.dir, 'live.yaml');
    const socket = join(tmp.dir, 'live.sock');
    const logFile = join(tmp.dir, 'live.log');
    const port = await freePort();
    const plan = { socket, logFile, listeners: [{ port, originPort: origins.A.port }] };
    writeConfig(file, plan);
    const daemon = spawnCli(['run', '-c', file]);
    try {
      await waitFor('the gateway to serve', async () => ((await get(port, '/up')).body === 'A /up' ? true : undefined));

      // SIGHUP reloads.
      writeConfig(file, { ...plan, listeners: [{ port, originPort: origins.B.port }] });
      daemon.kill('SIGHUP');
      await waitFor('the SIGHUP reload', async () => ((await get(port, '/hup')).body === 'B /hup' ? true : undefined));

      // A bad file: `portcullis reload` exits 1 and prints every error; the daemon keeps serving B.
      writeConfig(file, { ...plan, listeners: [{ port, originPort: origins.A.port }], extraGatewayYaml: '  colour: blue\n  limits: { maxHeaderCount: -1 }' });
      const rejected = await runCli(['reload', '-c', file]);
      assert.equal(rejected.code, 1, rejected.stderr);
      assert.match(rejected.stderr, /^reload rejected; the daemon keeps its running configuration:\n/);
      assert.match(rejected.stderr, /colour/);
      assert.match(rejected.stderr, /maxHeaderCount/);
      assert.equal((await get(port, '/kept')).body, 'B /kept');

      const status = await runCli(['status', '--json', '--socket', socket]);
      assert.equal(status.code, 0, status.stderr);
      const s = JSON.parse(status.stdout) as Record<string, unknown>;
      assert.equal(s['ok'], true);
      assert.equal(s['pid'], daemon.pid);
      assert.equal(s['configFile'], file);
      assert.equal(s['workers'], 1);
      assert.equal((s['lastReload'] as { ok: boolean }).ok, false);
      const human = await runCli(['status', '--socket', socket]);
      assert.equal(human.code, 0);
      assert.match(human.stdout, new RegExp(`^pid +${daemon.pid}$`, 'm'));
      assert.match(human.stdout, /^last reload +REJECTED at /m);

      // Fixed file: reload succeeds.
      writeConfig(file, { ...plan, listeners: [{ port, originPort: origins.A.port }] });
      const ok = await runCli(['reload', '-c', file]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^reloaded in \d+ ms\n$/);
      assert.equal((await get(port, '/back')).body, 'A /back');
    } finally {
      daemon.kill('SIGTERM');
    }
    const end = await collect(daemon);
    assert.equal(end.code, 0, end.stderr);
    const log = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = log.find((l) => l['path'] === '/kept');
    assert.ok(access, 'an access line per request');
    for (const field of ['pid', 'mode', 'worker', 'id', 'peerIp', 'clientIp', 'method', 'status', 'bytesIn', 'bytesOut', 'upstream', 'durationMs']) {
      assert.ok(field in access, `access line has ${field}: ${JSON.stringify(access)}`);
    }
    assert.ok(log.some((l) => l['msg'] === 'reload rejected; the running configuration stays'));
    assert.ok(log.some((l) => l['msg'] === 'stopped'));
  });
});
