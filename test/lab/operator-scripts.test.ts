/**
 * iptables/bridge.sh and iptables/bypass.sh in the netns lab, run inside the gateway namespace the way
 * an operator runs them on the gateway: from a configuration file (-c) and from flags; interception
 * proven with the transparent proxy fixture; bypass; down leaves nothing. Root only.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspectBridgeRules } from '../../src/platform/nft-apply.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { assertLabAvailable, Lab, labSkip, repoRoot, type LabProcess } from './lab-harness.js';

const bridgeSh = join(repoRoot, 'iptables', 'bridge.sh');
const bypassSh = join(repoRoot, 'iptables', 'bypass.sh');
const proxyFixture = join(repoRoot, 'test', 'lab', 'fixtures', 'transparent-proxy.ts');

describe('iptables/bridge.sh and bypass.sh in the netns lab', { skip: labSkip() }, () => {
  const lab = new Lab(`to${process.pid.toString(36)}`.slice(0, 10));
  const table = 'pc_ops';
  const flags = ['--servers', '10.20.0.10', '--ports', '80,443', '--table', table, '--mark', '0x7', '--route-table', '107'];
  let pki: TestPki;
  let dir: string;
  let proxy: LabProcess | null = null;
  // bridge.sh keeps the sysctls it found in a state dir; one per test run
  const env = (): Record<string, string> => ({ PORTCULLIS_STATE_DIR: join(dir, 'state') });
  const sh = (argv: string[]): { status: number | null; out: string } => {
    const r = lab.exec('gw', ['env', `PORTCULLIS_STATE_DIR=${env().PORTCULLIS_STATE_DIR}`, ...argv], 60_000);
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const handledCount = (): number => {
    const v = lab.curlJson<{ handled: unknown[] }>('http://10.20.0.10/__proxy');
    assert.ok(v, 'proxy answers');
    return v.handled.length;
  };

  before(async () => {
    assertLabAvailable();
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'portcullis-ops-'));
    lab.down();
    lab.up();
    proxy = await lab.start('gw', [process.execPath, '--import', 'tsx', proxyFixture], {});
  });

  after(async () => {
    await proxy?.stop('SIGKILL');
    lab.exec('gw', [bridgeSh, 'down', ...flags], 60_000);
    const r = lab.down();
    pki?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
  });

  it('--dry-run prints the script and changes nothing', async () => {
    const r = sh([bridgeSh, 'up', '--dry-run', ...flags]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /nft -f - <<'PORTCULLIS_NFT_EOF'/);
    assert.match(r.out, /ip -4 rule add fwmark 0x00000007 lookup 107/);
    assert.deepEqual(await inspectBridgeRules({ table, mark: 7, routeTable: 107 }, { netns: lab.ns('gw') }), { tables: [], ipRules: [], routes: [] });
  });

  it('up (flags): protected traffic is intercepted; status shows counters, the ip rule and the route', () => {
    const r = sh([bridgeSh, 'up', ...flags]);
    assert.equal(r.status, 0, r.out);
    const before = handledCount();
    assert.ok(lab.curlJson('http://10.20.0.10/via-bridge-sh'));
    assert.equal(handledCount(), before + 1, 'the request went through the proxy');
    const st = sh([bridgeSh, 'status', ...flags]);
    assert.equal(st.status, 0, st.out);
    assert.match(st.out, /counter packets [1-9]\d* bytes/);
    assert.match(st.out, /fwmark 0x7 lookup 107/);
    assert.match(st.out, /local default dev lo/);
  });

  it('bypass on: nothing is intercepted, the bridge still forwards; off: intercepted again', () => {
    const before = handledCount();
    const on = sh([bypassSh, 'on', ...flags]);
    assert.equal(on.status, 0, on.out);
    assert.match(sh([bypassSh, 'status', ...flags]).out, /bypass: ON/);
    assert.ok(lab.curlJson('http://10.20.0.10/bypassed'), 'still reaches the server');
    // /__proxy itself is a new protected connection, so it is bridged too while bypass is on
    assert.equal(lab.curlJson<{ url: string }>('http://10.20.0.10/__proxy')?.url, '/__proxy', 'answered by the server, not the proxy');
    const off = sh([bypassSh, 'off', ...flags]);
    assert.equal(off.status, 0, off.out);
    assert.match(sh([bypassSh, 'status', ...flags]).out, /bypass: OFF/);
    assert.equal(handledCount(), before, 'the bypassed request never reached the proxy');
    assert.ok(lab.curlJson('http://10.20.0.10/intercepted-again'));
    assert.equal(handledCount(), before + 1);
  });

  it('up -c FILE takes servers and ports from the configuration; re-running does not duplicate anything', async () => {
    const cert = pki.server('lab', ['server.lab'], ['10.20.0.10']);
    const file = join(dir, 'bridge.yaml');
    writeFileSync(
      file,
      [
        'gateway:',
        '  mode: bridge',
        `  bridge: { interface: br0, ports: [ext0, int0], failure: open, design: B, mark: 0x7, routeTable: 107, nftTable: ${table} }`,
        'sites:',
        '  - name: Lab',
        '    serverGroups:',
        '      - name: g',
        '        servers: [10.20.0.10]',
        '        services:',
        '          - name: web',
        '            ports: [80]',
        '            sslPorts: [443]',
        `            certificates: [{ name: c, cert: ${cert.certFile}, key: ${cert.keyFile} }]`,
        '',
      ].join('\n'),
    );
    for (let i = 0; i < 2; i++) {
      const r = sh([bridgeSh, 'up', '-c', file]);
      assert.equal(r.status, 0, r.out);
    }
    const state = await inspectBridgeRules({ table, mark: 7, routeTable: 107 }, { netns: lab.ns('gw') });
    assert.deepEqual(state.tables, [`inet ${table}`, `bridge ${table}`]);
    assert.equal(state.ipRules.length, 1, state.ipRules.join('\n'));
    const before = handledCount();
    assert.ok(lab.curlJson('http://10.20.0.10/from-config'));
    assert.equal(handledCount(), before + 1);
    const bad = sh([bridgeSh, 'up', '-c', join(dir, 'missing.yaml')]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.out, /not a valid configuration[\s\S]*missing\.yaml/);
  });

  it('down removes everything, twice in a row, and restores the sysctls', async () => {
    for (let i = 0; i < 2; i++) assert.equal(sh([bridgeSh, 'down', ...flags]).status, 0);
    assert.deepEqual(await inspectBridgeRules({ table, mark: 7, routeTable: 107 }, { netns: lab.ns('gw') }), { tables: [], ipRules: [], routes: [] });
    assert.equal(lab.exec('gw', ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables']).stdout.trim(), '0');
    assert.ok(lab.curlJson('http://10.20.0.10/after-down'));
  });
});
