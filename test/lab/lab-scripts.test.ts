/**
 * scripts/lab/up.sh and down.sh: two labs with different prefixes run side by side without clashing,
 * and down.sh leaves nothing behind (namespaces, veths, processes, run dir). Root only.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertLabAvailable, Lab, labDir, labSkip } from './lab-harness.js';

function namespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}
function rootLinks(): string[] {
  return spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('netns lab scripts', { skip: labSkip() }, () => {
  const a = new Lab(`la${process.pid.toString(36)}`.slice(0, 10));
  const b = new Lab(`lb${process.pid.toString(36)}`.slice(0, 10));

  before(() => {
    assertLabAvailable();
    a.down();
    b.down();
  });
  after(() => {
    a.down();
    b.down();
  });

  it('two labs come up side by side and each bridges client → server', () => {
    a.up();
    b.up();
    for (const lab of [a, b]) {
      for (const host of ['client', 'router', 'gw', 'server'] as const) assert.ok(namespaces().includes(lab.ns(host)), lab.ns(host));
      const seen = lab.curlJson<{ sawPeer: string; sawLocal: string }>('http://10.20.0.10/');
      assert.equal(seen?.sawLocal, '10.20.0.10:80');
      assert.match(seen.sawPeer, /^10\.10\.0\.2:/);
      assert.ok(lab.curlJson('https://10.20.0.11/'), 'TLS on the unprotected address');
      assert.ok(lab.curlJson('http://[fd00:20::10]:8080/'), 'IPv6');
      assert.ok(lab.icmpEcho('10.20.0.11'));
      assert.equal(lab.exec('gw', ['cat', '/sys/class/net/br0/brif/ext0/port_no']).status, 0, 'ext0 is a port of br0');
    }
  });

  it('up.sh refuses to build over an existing lab of the same prefix', () => {
    const r = spawnSync(join(labDir, 'up.sh'), { env: { ...process.env, LAB_PREFIX: a.prefix }, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /exists already/);
    assert.ok(a.curlJson('http://10.20.0.10/'), 'and leaves the running lab alone');
  });

  it('down.sh of one lab leaves the other running, and leaves nothing of its own behind', () => {
    const serverPid = Number(readFileSync(join(a.runDir, 'server.pid'), 'utf8'));
    assert.ok(alive(serverPid));
    assert.equal(a.down().status, 0);
    assert.ok(!alive(serverPid), 'the lab server process is gone');
    assert.deepEqual(namespaces().filter((n) => n.startsWith(`${a.prefix}-`)), []);
    assert.deepEqual(rootLinks().filter((l) => l.startsWith(`${a.prefix}-`)), []);
    assert.ok(!existsSync(a.runDir), 'run dir removed');
    assert.ok(b.curlJson('http://10.20.0.10/'), 'the other lab still works');
    assert.equal(a.down().status, 0, 'down.sh twice is fine');
  });

  it('rejects a prefix that would make veth names too long', () => {
    const r = spawnSync(join(labDir, 'up.sh'), { env: { ...process.env, LAB_PREFIX: 'waytoolongprefix' }, encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /LAB_PREFIX must be 1-10 characters/);
  });
});
