/** BridgeInterception (start / reload / stop) from a loaded configuration, in a throwaway netns. Root only. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { BridgeInterception } from '../../src/platform/bridge-interception.js';
import { inspectBridgeRules, listBridgeRules } from '../../src/platform/nft-apply.js';

const root = process.getuid?.() === 0;
const ns = `pcbi${process.pid.toString(36)}`;

function config(servers: string, failure = 'open'): GatewayConfig {
  const text = [
    'gateway:',
    '  mode: bridge',
    `  bridge: { interface: br0, ports: [p0, p2], failure: ${failure}, mark: 0x9, routeTable: 109, nftTable: pc_bi }`,
    'sites:',
    '  - name: S',
    '    serverGroups:',
    '      - name: g',
    `        servers: [${servers}]`,
    '        services:',
    '          - { name: web, ports: [80, 8080] }',
    '',
  ].join('\n');
  const r = parseConfigText(text, '/tmp/bridge-interception-test.yaml');
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config;
}

describe('BridgeInterception', { skip: root ? false : 'needs root' }, () => {
  before(() => {
    assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
    assert.equal(spawnSync('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']).status, 0);
    assert.equal(spawnSync('ip', ['-n', ns, 'link', 'add', 'p0', 'master', 'br0', 'type', 'veth', 'peer', 'name', 'p1']).status, 0);
    assert.equal(spawnSync('ip', ['-n', ns, 'link', 'add', 'p2', 'master', 'br0', 'type', 'veth', 'peer', 'name', 'p3']).status, 0);
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('start installs the configuration, reload updates sets or re-applies, stop leaves nothing', async () => {
    const target = { table: 'pc_bi', mark: 9, routeTable: 109 };
    const bi = await BridgeInterception.start(config('10.20.0.10'), { netns: ns, skipCapabilityCheck: true });
    assert.deepEqual((await inspectBridgeRules(target, { netns: ns })).tables, ['inet pc_bi', 'bridge pc_bi']);
    assert.match(await listBridgeRules('pc_bi', { netns: ns }), /10\.20\.0\.10 \. 8080/);
    assert.equal(await bi.reload(config('10.20.0.10, 10.20.0.12')), 'updated');
    assert.match(await listBridgeRules('pc_bi', { netns: ns }), /10\.20\.0\.12 \. 80\b/);
    assert.equal(await bi.reload(config('10.20.0.12', 'closed')), 'reapplied');
    const text = await listBridgeRules('pc_bi', { netns: ns });
    assert.match(text, /drop comment "failure closed/);
    assert.doesNotMatch(text, /10\.20\.0\.10 \./);
    await bi.stop();
    await bi.stop();
    assert.deepEqual(await inspectBridgeRules(target, { netns: ns }), { tables: [], ipRules: [], routes: [] });
  });
});
