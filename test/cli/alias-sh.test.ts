/**
 * iptables/alias.sh in a network namespace of its own (created and deleted here): up / down / status,
 * --dry-run, idempotence, labels, and that `down` leaves addresses it did not add. Then the daemon's
 * address check in the same namespace: refused before `up`, started after.
 *
 * Needs root and `ip netns`. Outside CI it is skipped when they are missing; with CI=true it fails,
 * because a skipped kernel test is not a passed one.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, REPO, tempDir, waitFor } from '../daemon/daemon-fixtures.js';

const NS = `pc-alias-test-${process.pid}`;
const SCRIPT = join(REPO, 'iptables/alias.sh');
const CLI_CMD = `${process.execPath} --import tsx ${CLI}`;

function canUseNetns(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.status !== 0) return `ip netns unavailable: ${probe.stderr || probe.error?.message}`;
  return null;
}

const unavailable = canUseNetns();
if (unavailable !== null && process.env['CI'] === 'true') {
  test('iptables/alias.sh needs a network namespace (CI=true: this must run)', () => {
    assert.fail(`cannot run the alias.sh namespace test: ${unavailable}`);
  });
}

function inNs(cmd: string, args: string[]) {
  const r = spawnSync('ip', ['netns', 'exec', NS, cmd, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, PORTCULLIS_CLI: CLI_CMD, NODE_OPTIONS: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function addresses(): string {
  return execFileSync('ip', ['-n', NS, '-o', 'addr', 'show', 'dev', 'pcv0'], { encoding: 'utf8' });
}

describe('iptables/alias.sh', { skip: unavailable ?? false }, () => {
  let tmp: ReturnType<typeof tempDir>;
  let config: string;

  before(() => {
    tmp = tempDir('pc-alias-');
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'add', 'pcv0', 'type', 'veth', 'peer', 'name', 'pcv1']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'pcv0', 'up']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'pcv1', 'up']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    config = join(tmp.dir, 'aliases.yaml');
    writeFileSync(
      config,
      `gateway:
  mode: alias
  log: { level: info, file: ${JSON.stringify(join(tmp.dir, 'gw.log'))} }
  control: { socket: ${JSON.stringify(join(tmp.dir, 'control.sock'))} }
  aliases:
    - { name: vip1, device: pcv0, address: 10.30.0.100/24 }
    - { name: vip2, device: pcv0, address: 10.30.0.101/24 }
    - { name: vip6, device: pcv0, address: fd00::100/64 }
sites:
  - name: s
    serverGroups:
      - name: g
        servers: [10.30.0.10]
        services:
          - name: web
            ports: [8080]
            reverseProxy:
              - alias: vip1
                port: 8080
                rules:
                  - { priority: 10, host: "*", urlPrefix: /, serverIp: 10.30.0.10, serverPort: 80 }
`,
    );
  });

  after(() => {
    spawnSync('ip', ['netns', 'del', NS]);
    tmp.cleanup();
  });

  test('status, --dry-run, up (idempotent, labelled), down (only what it added)', () => {
    // An address of the host's own that alias.sh must never touch.
    execFileSync('ip', ['-n', NS, 'addr', 'add', '10.40.0.1/24', 'dev', 'pcv0']);

    const before = inNs(SCRIPT, ['status', '-c', config]);
    assert.equal(before.code, 1, 'status fails while an alias is missing');
    assert.equal(
      before.stdout,
      'alias vip1: 10.30.0.100/24 on pcv0: MISSING\nalias vip2: 10.30.0.101/24 on pcv0: MISSING\nalias vip6: fd00::100/64 on pcv0: MISSING\n',
    );

    const dry = inNs(SCRIPT, ['up', '--dry-run', '-c', config]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(
      dry.stdout,
      'ip addr add 10.30.0.100/24 dev pcv0 label pcv0:1\nip addr add 10.30.0.101/24 dev pcv0 label pcv0:2\nip addr add fd00::100/64 dev pcv0\n',
    );
    assert.doesNotMatch(addresses(), /10\.30\.0\./, '--dry-run changed nothing');

    const up = inNs(SCRIPT, ['up', '-c', config]);
    assert.equal(up.code, 0, up.stderr);
    const added = addresses();
    assert.match(added, /inet 10\.30\.0\.100\/24 .*pcv0:1/);
    assert.match(added, /inet 10\.30\.0\.101\/24 .*pcv0:2/);
    assert.match(added, /inet6 fd00::100\/64/);

    const again = inNs(SCRIPT, ['up', '-c', config]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /^\+ ip/m, 'a second up runs no command');
    assert.equal((again.stdout.match(/already on pcv0/g) ?? []).length, 3);

    const present = inNs(SCRIPT, ['status', '-c', config]);
    assert.equal(present.code, 0);
    assert.equal((present.stdout.match(/: present$/gm) ?? []).length, 3);

    const down = inNs(SCRIPT, ['down', '-c', config]);
    assert.equal(down.code, 0, down.stderr);
    const left = addresses();
    assert.doesNotMatch(left, /10\.30\.0\.|fd00::100/);
    assert.match(left, /inet 10\.40\.0\.1\/24/, 'the address alias.sh did not add is still there');

    const downAgain = inNs(SCRIPT, ['down', '-c', config]);
    assert.equal(downAgain.code, 0);
    assert.equal((downAgain.stdout.match(/nothing to remove/g) ?? []).length, 3);
  });

  test('bad input: unknown action/flag exit 2, a missing device and an invalid file exit 1', () => {
    const usage = inNs(SCRIPT, ['sideways', '-c', config]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown argument sideways/);
    const noAction = inNs(SCRIPT, ['-c', config]);
    assert.equal(noAction.code, 2);
    assert.match(noAction.stderr, /missing action/);

    const otherDevice = join(tmp.dir, 'nodevice.yaml');
    writeFileSync(otherDevice, readFileSync(config, 'utf8').replaceAll('pcv0', 'nope0'));
    const missing = inNs(SCRIPT, ['up', '-c', otherDevice]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /alias vip1: device nope0 does not exist on this host/);

    const invalid = join(tmp.dir, 'invalid.yaml');
    writeFileSync(invalid, readFileSync(config, 'utf8').replace('mode: alias', 'mode: alias\n  colour: blue'));
    const bad = inNs(SCRIPT, ['up', '-c', invalid]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /colour/);
    assert.match(bad.stderr, /cannot read the aliases from/);
  });

  test('the daemon refuses to start without the alias addresses and starts once alias.sh added them', async () => {
    const refused = inNs(process.execPath, ['--import', 'tsx', CLI, 'run', '-c', config]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /alias vip1 address 10\.30\.0\.100 is not configured on device pcv0; run iptables\/alias\.sh up -c /);

    assert.equal(inNs(SCRIPT, ['up', '-c', config]).code, 0);
    const daemon = spawn('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', CLI, 'run', '-c', config], {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    daemon.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => daemon.once('exit', (code) => r(code)));
    try {
      await waitFor('the daemon to listen on the alias', () => {
        if (daemon.exitCode !== null) throw new Error(`exited: ${stderr}`);
        const log = readFileSync(join(tmp.dir, 'gw.log'), 'utf8');
        return log.includes('"msg":"daemon ready"') ? true : undefined;
      });
      assert.match(readFileSync(join(tmp.dir, 'gw.log'), 'utf8'), /"listener":"10\.30\.0\.100:8080".*"msg":"listening"/);
    } finally {
      daemon.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    inNs(SCRIPT, ['down', '-c', config]);
  });
});
