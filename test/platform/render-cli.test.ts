/** render-cli (what iptables/bridge.sh and bypass.sh run): flags, configuration, scripts, errors. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderBridgeRuleset } from '../../src/platform/nft-ruleset.js';
import { inputFromArgs, renderDownScript, renderElements, renderUpScript } from '../../src/platform/render-cli.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mac = ['--mac', '02:00:00:00:00:0a'];

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/platform/render-cli.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('render-cli', () => {
  let pki: TestPki;
  let dir: string;
  before(() => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'portcullis-render-'));
  });
  after(() => {
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('flags: servers × ports, defaults for the rest', async () => {
    const { command, input } = await inputFromArgs(['ruleset', '--servers', '10.20.0.10,fd00:20::10', '--ports', '80,443', ...mac]);
    assert.equal(command, 'ruleset');
    assert.deepEqual(input.endpoints, [
      { address: '10.20.0.10', port: 80 },
      { address: '10.20.0.10', port: 443 },
      { address: 'fd00:20::10', port: 80 },
      { address: 'fd00:20::10', port: 443 },
    ]);
    assert.equal(input.design, 'B');
    assert.equal(input.table, 'portcullis');
    assert.deepEqual(input.ports, ['ext0', 'int0']);
  });

  it('configuration: each server group keeps its own ports; flags override the bridge settings', async () => {
    const cert = pki.server('s', ['s.lab'], []);
    const file = join(dir, 'bridge.yaml');
    writeFileSync(
      file,
      [
        'gateway:',
        '  mode: bridge',
        '  bridge: { interface: br7, ports: [a0, b0], failure: closed, mark: 0x20, routeTable: 120, nftTable: pcx, mac: "02:00:00:00:00:77" }',
        'sites:',
        '  - name: S',
        '    serverGroups:',
        '      - name: one',
        '        servers: [10.20.0.10]',
        '        services:',
        `          - { name: web, ports: [80], sslPorts: [443], certificates: [{ name: c, cert: ${cert.certFile}, key: ${cert.keyFile} }] }`,
        '      - name: two',
        '        servers: [10.20.0.20]',
        '        services:',
        '          - { name: alt, ports: [8080] }',
        '',
      ].join('\n'),
    );
    const { input } = await inputFromArgs(['ruleset', '-c', file]);
    assert.deepEqual(input.endpoints, [
      { address: '10.20.0.10', port: 80 },
      { address: '10.20.0.10', port: 443 },
      { address: '10.20.0.20', port: 8080 },
    ]);
    assert.equal(input.bridge, 'br7');
    assert.equal(input.bridgeMac, '02:00:00:00:00:77');
    assert.equal(input.failure, 'closed');
    assert.equal(input.mark, 0x20);
    const text = renderBridgeRuleset(input);
    assert.doesNotMatch(text, /10\.20\.0\.10 \. 8080/, 'group one does not get group two\'s port');
    const { input: overridden } = await inputFromArgs(['ruleset', '-c', file, '--failure', 'open', '--ports', '80']);
    assert.equal(overridden.failure, 'open');
    assert.deepEqual(overridden.endpoints, [{ address: '10.20.0.10', port: 80 }, { address: '10.20.0.20', port: 80 }]);
  });

  it('up script: sysctls, routing before the rules, atomic nft heredoc; down script removes all', async () => {
    const { input } = await inputFromArgs(['script-up', '--servers', '10.20.0.10', '--ports', '80', ...mac]);
    const up = renderUpScript(input);
    const order = ['sysctl -qw net.bridge.bridge-nf-call-iptables=1', 'ip -4 rule add fwmark', "nft -f - <<'PORTCULLIS_NFT_EOF'"].map((s) => up.indexOf(s));
    assert.ok(order.every((i) => i > 0) && order[0]! < order[1]! && order[1]! < order[2]!, up);
    assert.ok(up.includes(renderBridgeRuleset(input).trimEnd()));
    const bash = spawnSync('bash', ['-n'], { input: up });
    assert.equal(bash.status, 0, String(bash.stderr));
    const down = renderDownScript(input);
    assert.match(down, /delete table inet portcullis/);
    assert.match(down, /while ip -4 rule del fwmark 0x00000001 lookup 100 2>\/dev\/null; do :; done/);
    assert.equal(spawnSync('bash', ['-n'], { input: down }).status, 0);
  });

  it('elements: re-fills every set (bypass off)', async () => {
    const { input } = await inputFromArgs(['elements', '--servers', '10.20.0.10,fd00::10', '--ports', '80,443']);
    assert.equal(
      renderElements(input),
      'add element inet portcullis protected_v4 { 10.20.0.10 . 80, 10.20.0.10 . 443 }\nadd element inet portcullis protected_v6 { fd00::10 . 80, fd00::10 . 443 }\n',
    );
  });

  it('as a process: prints, and exits 2 with a message for bad input', () => {
    const ok = cli(['ruleset', '--servers', '10.20.0.10', '--ports', '80', ...mac]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /table inet portcullis \{/);
    const vars = cli(['vars', '--table', 'x1', '--mark', '0x10']);
    assert.equal(vars.stdout, 'TABLE=x1\nMARK=0x10\nROUTE_TABLE=100\nBRIDGE=br0\nDESIGN=B\n');
    for (const [args, pattern] of [
      [['ruleset', '--servers', 'server1', '--ports', '80', ...mac], /--servers: 'server1' is not an IPv4 or IPv6 address/],
      [['ruleset', '--servers', '10.0.0.1', '--ports', 'http', ...mac], /--ports must be an integer/],
      [['ruleset', '--servers', '10.0.0.1', '--ports', '80', '--mac', 'nope'], /bridgeMac must look like/],
      [['ruleset', '--ports', '80', ...mac], /--servers and --ports are required/],
      [['ruleset', '-c', join(dir, 'missing.yaml')], /is not a valid configuration/],
      [['frobnicate', '--servers', '10.0.0.1', '--ports', '80', ...mac], /unknown command 'frobnicate'/],
      [['ruleset', '--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const r = cli([...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
  });
});
