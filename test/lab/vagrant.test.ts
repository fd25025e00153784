/**
 * `vagrant validate --ignore-provider` on vagrant/Vagrantfile (a syntax and core-schema check: no
 * hypervisor is needed). A deliberately broken copy must fail, so the check is not vacuous.
 * Skipped loudly when vagrant is not installed, except under CI=true, where it fails.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from './lab-harness.js';

const vagrantDir = join(repoRoot, 'vagrant');
const installed = spawnSync('vagrant', ['--version'], { encoding: 'utf8' }).status === 0;
let skip: string | false = false;
if (!installed && process.env.CI !== 'true') {
  skip = 'SKIPPED: vagrant is not installed (apt-get install -y vagrant); CI runs this check';
  console.warn(`\n*** ${skip} ***\n`);
}

const scratch = mkdtempSync(join(tmpdir(), 'portcullis-vagrant-'));

function validate(cwd: string, env: Record<string, string> = {}): { status: number | null; out: string } {
  const r = spawnSync('vagrant', ['validate', '--ignore-provider'], {
    cwd,
    encoding: 'utf8',
    // A loaded machine once took 92 s for the first validation; a timeout must not be read as a result.
    timeout: 300_000,
    // keep vagrant's state out of the repository and out of $HOME; no version check over the network
    // (only Debian's mirrors are reachable here, and a hanging check would stall the test)
    env: {
      ...process.env,
      VAGRANT_DOTFILE_PATH: join(scratch, 'dotfile'),
      VAGRANT_HOME: join(scratch, 'home'),
      VAGRANT_CHECKPOINT_DISABLE: '1',
      ...env,
    },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}${r.error ? r.error.message : ''}` };
}

describe('vagrant lab definition', { skip, timeout: 700_000 }, () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('vagrant/Vagrantfile validates (every provider block ignored)', () => {
    assert.ok(installed, 'vagrant must be installed under CI=true');
    const r = validate(vagrantDir);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Vagrantfile validated successfully/);
    for (const host of ['client', 'router', 'gateway', 'server']) assert.match(r.out, new RegExp(`==> ${host}:`));
  });

  it('a broken copy fails validation (the check can fail)', () => {
    const dir = join(scratch, 'broken', 'vagrant');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(vagrantDir, 'provision.sh'), join(dir, 'provision.sh'));
    const text = readFileSync(join(vagrantDir, 'Vagrantfile'), 'utf8').replace('host.vm.hostname =', 'host.vm.hostnme =');
    writeFileSync(join(dir, 'Vagrantfile'), text);
    const r = validate(dir);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /hostnme/);
  });
});
