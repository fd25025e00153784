/**
 * Golden files for the rendered rule sets (test/platform/fixtures/*.nft), the reload diff, the routing
 * commands and every input error. When root, each golden file is also checked by the kernel with
 * `nft -c -f` inside a throwaway network namespace.
 * Regenerate after an intended change: UPDATE_GOLDEN=1 node --import tsx --test test/platform/nft-ruleset.test.ts
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  renderBridgeRuleset,
  renderRoutingCommands,
  renderRoutingTeardown,
  renderSetUpdate,
  renderTeardown,
  type BridgeRulesetInput,
} from '../../src/platform/nft-ruleset.js';
import { PlatformError } from '../../src/platform/platform-errors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

const labV4: BridgeRulesetInput = {
  design: 'B',
  table: 'portcullis',
  mark: 0x1,
  routeTable: 100,
  bridge: 'br0',
  bridgeMac: '02:AA:00:00:00:01',
  ports: ['ext0', 'int0'],
  protectedV4: ['10.20.0.10'],
  protectedV6: [],
  tcpPorts: [443, 80],
  failure: 'open',
};
const labV4V6: BridgeRulesetInput = {
  ...labV4,
  protectedV4: ['10.20.0.10', '10.20.0.9'],
  protectedV6: ['FD00:20:0:0::10'],
  endpoints: [{ address: '10.20.0.12', port: 8443 }],
};
const closed: BridgeRulesetInput = { ...labV4V6, failure: 'closed', mark: 0x4d2, routeTable: 4242, table: 'pc_lab' };
const designA: BridgeRulesetInput = { ...labV4V6, design: 'A', failure: 'closed', tproxyPorts: { 80: 15001, 443: 15443 } };

function golden(name: string, actual: string): void {
  const file = join(fixtures, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from the golden file`);
}

function inputError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e) => e instanceof PlatformError && e.code === 'ERR_RULESET_INPUT' && pattern.test(e.message));
}

describe('renderBridgeRuleset golden files', () => {
  it('design B, IPv4 only', () => golden('design-b-v4.nft', renderBridgeRuleset(labV4)));
  it('design B, IPv4 + IPv6 + extra endpoint', () => golden('design-b-v4-v6.nft', renderBridgeRuleset(labV4V6)));
  it('design B, failure closed, custom table/mark/route table', () => golden('design-b-failure-closed.nft', renderBridgeRuleset(closed)));
  it('design A', () => golden('design-a.nft', renderBridgeRuleset(designA)));
  it('set update (reload)', () => {
    const next: BridgeRulesetInput = {
      ...labV4V6,
      protectedV4: ['10.20.0.10', '10.20.0.13'],
      protectedV6: ['fd00:20::10', 'fd00:20::11'],
    };
    golden('set-update.nft', renderSetUpdate(labV4V6, next) ?? 'null');
  });
  it('teardown', () => golden('teardown.nft', renderTeardown('portcullis')));
});

describe('renderBridgeRuleset semantics', () => {
  it('the rendered elements are the sorted, unique cross product plus endpoints; MAC lower-cased; IPv6 canonical', () => {
    const text = renderBridgeRuleset({ ...labV4V6, protectedV4: ['10.20.0.10', '10.20.0.10'] });
    assert.match(text, /elements = \{ 10\.20\.0\.10 \. 80,\s+10\.20\.0\.10 \. 443,\s+10\.20\.0\.12 \. 8443 \}/);
    assert.match(text, /elements = \{ fd00:20::10 \. 80,\s+fd00:20::10 \. 443 \}/);
    assert.match(text, /ether daddr set 02:aa:00:00:00:01 /);
    assert.doesNotMatch(text, /FD00|02:AA/);
  });

  it('IPv6 rules only when an IPv6 endpoint exists', () => {
    assert.doesNotMatch(renderBridgeRuleset(labV4), /ip6|protected_v6/);
    assert.match(renderBridgeRuleset(labV4V6), /ip6 daddr \. tcp dport @protected_v6/);
  });

  it('failure closed drops protected SYNs right after the intercept rule, for each family', () => {
    const lines = renderBridgeRuleset(closed).split('\n');
    const intercept = lines.findIndex((l) => l.includes('ip daddr . tcp dport @protected_v4') && l.includes('socket transparent 1'));
    assert.match(lines[intercept + 1]!, /ip daddr \. tcp dport @protected_v4 tcp flags & \(syn \| ack\) == syn counter drop/);
    assert.equal(lines.filter((l) => / drop /.test(l)).length, 2);
    assert.doesNotMatch(renderBridgeRuleset(labV4), / drop /);
  });

  it('no bridge ports: the bridge chain matches any port', () => {
    assert.match(renderBridgeRuleset({ ...labV4, ports: [] }), /meta mark 0x00000001 counter ether daddr set/);
  });

  it('rejects bad input, naming the field', () => {
    inputError(() => renderBridgeRuleset({ ...labV4, table: 'port cullis' }), /^table/);
    inputError(() => renderBridgeRuleset({ ...labV4, mark: 0 }), /^mark/);
    inputError(() => renderBridgeRuleset({ ...labV4, mark: 2 ** 32 }), /^mark/);
    inputError(() => renderBridgeRuleset({ ...labV4, routeTable: 254 }), /^routeTable/);
    inputError(() => renderBridgeRuleset({ ...labV4, bridge: 'a-very-long-bridge-name' }), /^bridge/);
    inputError(() => renderBridgeRuleset({ ...labV4, ports: ['ext 0'] }), /^bridge port/);
    inputError(() => renderBridgeRuleset({ ...labV4, bridgeMac: '02:00:00:00:00' }), /^bridgeMac/);
    inputError(() => renderBridgeRuleset({ ...labV4, protectedV4: ['10.20.0.300'] }), /^protectedV4/);
    inputError(() => renderBridgeRuleset({ ...labV4, protectedV4: ['fd00::1'] }), /^protectedV4/);
    inputError(() => renderBridgeRuleset({ ...labV4, protectedV6: ['10.0.0.1'] }), /^protectedV6/);
    inputError(() => renderBridgeRuleset({ ...labV4, tcpPorts: [0] }), /^tcpPorts/);
    inputError(() => renderBridgeRuleset({ ...labV4, endpoints: [{ address: 'server', port: 80 }] }), /^endpoint address/);
    inputError(() => renderBridgeRuleset({ ...labV4, endpoints: [{ address: '10.0.0.1', port: 65536 }] }), /^port of endpoint/);
    inputError(() => renderBridgeRuleset({ ...labV4, design: 'C' as 'A' }), /^design/);
    inputError(() => renderBridgeRuleset({ ...labV4, failure: 'maybe' as 'open' }), /^failure/);
    inputError(() => renderBridgeRuleset({ ...labV4, design: 'A' }), /design A fails closed/);
    inputError(() => renderBridgeRuleset({ ...designA, endpoints: [{ address: '10.0.0.1', port: 60000 }] }), /TPROXY port for protected port 60000/);
    inputError(() => renderTeardown('bad name'), /^table/);
  });
});

describe('renderSetUpdate', () => {
  it('returns an empty string when nothing changes (order and duplicates do not matter)', () => {
    assert.equal(renderSetUpdate(labV4, { ...labV4, tcpPorts: [80, 443, 80] }), '');
  });
  it('port changes in design B are element changes', () => {
    assert.equal(
      renderSetUpdate(labV4, { ...labV4, tcpPorts: [80, 8080] }),
      'delete element inet portcullis protected_v4 { 10.20.0.10 . 443 }\nadd element inet portcullis protected_v4 { 10.20.0.10 . 8080 }\n',
    );
  });
  it('design A updates the sets of both tables', () => {
    const out = renderSetUpdate(designA, { ...designA, protectedV4: ['10.20.0.10'] });
    assert.equal(
      out,
      'delete element bridge portcullis protected_v4 { 10.20.0.9 . 80, 10.20.0.9 . 443 }\n' +
        'delete element inet portcullis protected_v4 { 10.20.0.9 . 80, 10.20.0.9 . 443 }\n',
    );
  });
  it('structural changes return null (re-apply in full)', () => {
    assert.equal(renderSetUpdate(labV4, labV4V6), null, 'IPv6 appears');
    assert.equal(renderSetUpdate(labV4V6, labV4), null, 'IPv6 disappears');
    assert.equal(renderSetUpdate(labV4, { ...labV4, failure: 'closed' }), null);
    assert.equal(renderSetUpdate(labV4, { ...labV4, mark: 2 }), null);
    assert.equal(renderSetUpdate(labV4, { ...labV4, bridgeMac: '02:00:00:00:00:02' }), null);
    assert.equal(renderSetUpdate(designA, { ...designA, tcpPorts: [80] , endpoints: [] }), null, 'design A port list changes its rules');
  });
});

describe('renderRoutingCommands', () => {
  it('design B, IPv4: br_netfilter on, rp_filter off, MAC pinned, fwmark rule and local route', () => {
    const r = renderRoutingCommands(labV4);
    assert.deepEqual(r.sysctls, [
      { key: 'net.bridge.bridge-nf-call-iptables', value: '1' },
      { key: 'net.ipv4.conf.all.rp_filter', value: '0' },
      { key: 'net.ipv4.conf.br0.rp_filter', value: '0' },
    ]);
    assert.deepEqual(r.up, [
      ['ip', 'link', 'set', 'dev', 'br0', 'address', '02:aa:00:00:00:01'],
      ['ip', '-4', 'rule', 'add', 'fwmark', '0x00000001', 'lookup', '100'],
      ['ip', '-4', 'route', 'replace', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100'],
    ]);
    assert.deepEqual(r.down, renderRoutingTeardown({ mark: 1, routeTable: 100 }));
  });
  it('design B with IPv6 adds ip6tables and the IPv6 rule/route', () => {
    const r = renderRoutingCommands(closed);
    assert.ok(r.sysctls.some((s) => s.key === 'net.bridge.bridge-nf-call-ip6tables' && s.value === '1'));
    assert.ok(r.up.some((a) => a.join(' ') === 'ip -6 rule add fwmark 0x000004d2 lookup 4242'));
    assert.ok(r.up.some((a) => a.join(' ') === 'ip -6 route replace local ::/0 dev lo table 4242'));
  });
  it('design A turns br_netfilter off, globally and on the bridge', () => {
    const r = renderRoutingCommands(designA);
    assert.ok(r.sysctls.some((s) => s.key === 'net.bridge.bridge-nf-call-iptables' && s.value === '0'));
    assert.ok(r.up.some((a) => a.join(' ') === 'ip link set dev br0 type bridge nf_call_iptables 0 nf_call_ip6tables 0'));
  });
  it('teardown covers both families whatever was applied', () => {
    assert.deepEqual(
      renderRoutingTeardown({ mark: 0x10, routeTable: 7 }).map((a) => a.join(' ')),
      [
        'ip -4 rule del fwmark 0x00000010 lookup 7',
        'ip -4 route del local 0.0.0.0/0 dev lo table 7',
        'ip -6 rule del fwmark 0x00000010 lookup 7',
        'ip -6 route del local ::/0 dev lo table 7',
      ],
    );
    assert.throws(() => renderRoutingTeardown({ mark: 1, routeTable: 255 }), /routeTable/);
  });
});

const root = process.getuid?.() === 0;
const ns = `pcnftchk${process.pid}`;
describe('the kernel accepts the golden files (nft -c in a throwaway netns)', { skip: root ? false : 'needs root' }, () => {
  before(() => {
    const r = spawnSync('ip', ['netns', 'add', ns]);
    assert.equal(r.status, 0, String(r.stderr));
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });
  for (const name of ['design-b-v4.nft', 'design-b-v4-v6.nft', 'design-b-failure-closed.nft', 'design-a.nft', 'teardown.nft']) {
    it(name, () => {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', join(fixtures, name)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    });
  }
  it('set-update.nft applies on top of design-b-v4-v6.nft', () => {
    const load = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', join(fixtures, 'design-b-v4-v6.nft')], { encoding: 'utf8' });
    assert.equal(load.status, 0, load.stderr);
    const upd = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', join(fixtures, 'set-update.nft')], { encoding: 'utf8' });
    assert.equal(upd.status, 0, upd.stderr);
    const list = spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'set', 'inet', 'portcullis', 'protected_v4'], { encoding: 'utf8' });
    assert.match(list.stdout, /10\.20\.0\.13 \. 80/);
    assert.doesNotMatch(list.stdout, /10\.20\.0\.9 /);
  });
});
