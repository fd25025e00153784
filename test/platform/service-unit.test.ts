/** scripts/portcullis.service: the capabilities and restart policy bridge mode relies on; systemd accepts it. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const unitFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'portcullis.service');
const text = readFileSync(unitFile, 'utf8');
const values = (key: string): string[] =>
  text.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim());

describe('scripts/portcullis.service', () => {
  it('grants exactly the bridge-mode capabilities, ambient and bounding', () => {
    const caps = ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'];
    assert.deepEqual(values('AmbientCapabilities').join(' ').split(/\s+/).sort(), caps);
    assert.deepEqual(values('CapabilityBoundingSet').join(' ').split(/\s+/).sort(), caps);
    assert.deepEqual(values('User'), ['portcullis'], 'not root');
  });
  it('restarts always and reloads through `portcullis reload`', () => {
    assert.deepEqual(values('Restart'), ['always']);
    assert.match(values('ExecReload')[0] ?? '', /portcullis\.js reload$/);
    assert.match(values('ExecStart')[0] ?? '', /portcullis\.js run -c /);
  });
  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it('systemd-analyze verify reports nothing', { skip: analyze ? false : 'systemd-analyze missing' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-unit-'));
    try {
      copyFileSync(unitFile, join(dir, 'portcullis.service'));
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'portcullis.service')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
