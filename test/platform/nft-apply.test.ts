/**
 * nft-apply.ts against the real kernel, inside a throwaway network namespace holding a bridge (root
 * only; the end-to-end behaviour of the rules is tested in test/lab/).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { applyBridgeRules, inspectBridgeRules, listBridgeRules, removeBridgeRules, updateBridgeRules } from '../../src/platform/nft-apply.js';
import type { BridgeRulesetInput } from '../../src/platform/nft-ruleset.js';
import { interfaceExists, listBridgePorts, readInterfaceMac } from '../../src/platform/network-interfaces.js';
import { PlatformError } from '../../src/platform/platform-errors.js';

const root = process.getuid?.() === 0;
const ns = `pcapply${process.pid.toString(36)}`;
const opts = { netns: ns };
const ip = (...args: string[]): void => {
  const r = spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
};

describe('applyBridgeRules / updateBridgeRules / removeBridgeRules (throwaway netns)', { skip: root ? false : 'needs root' }, () => {
  let input: BridgeRulesetInput;
  before(async () => {
    assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
    ip('link', 'add', 'br0', 'type', 'bridge');
    ip('link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1');
    ip('link', 'set', 'p0', 'master', 'br0');
    input = {
      design: 'B',
      table: 'portcullis',
      mark: 0x1,
      routeTable: 100,
      bridge: 'br0',
      bridgeMac: await readInterfaceMac('br0', opts),
      ports: await listBridgePorts('br0', opts),
      protectedV4: ['10.20.0.10'],
      protectedV6: [],
      tcpPorts: [80, 443],
      failure: 'open',
    };
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('interface helpers read the bridge', async () => {
    assert.deepEqual(input.ports, ['p0']);
    assert.match(input.bridgeMac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(await interfaceExists('br0', opts), true);
    assert.equal(await interfaceExists('nope0', opts), false);
    await assert.rejects(readInterfaceMac('nope0', opts), (e) => e instanceof PlatformError && e.code === 'ERR_NETWORK_INTERFACE');
    await assert.rejects(listBridgePorts('p0', opts), (e) => e instanceof PlatformError && /not a bridge/.test(e.message));
  });

  it('a failing apply (missing bridge) throws ERR_NFT_APPLY and leaves nothing behind', async () => {
    await assert.rejects(applyBridgeRules({ ...input, bridge: 'nope0' }, opts), (e) => e instanceof PlatformError && e.code === 'ERR_NFT_APPLY');
    assert.deepEqual(await inspectBridgeRules(input, opts), { tables: [], ipRules: [], routes: [] });
  });

  it('bad input is refused before anything is touched', async () => {
    await assert.rejects(applyBridgeRules({ ...input, mark: 0 }, opts), (e) => e instanceof PlatformError && e.code === 'ERR_RULESET_INPUT');
    assert.deepEqual(await inspectBridgeRules(input, opts), { tables: [], ipRules: [], routes: [] });
  });

  it('apply twice: one generation, one ip rule, the MAC pinned, the sysctls recorded', async () => {
    const first = await applyBridgeRules(input, opts);
    await applyBridgeRules(input, opts);
    const state = await inspectBridgeRules(input, opts);
    assert.deepEqual(state.tables, ['inet portcullis', 'bridge portcullis']);
    assert.equal(state.ipRules.length, 1);
    assert.equal(state.routes.length, 1);
    assert.ok(first.previousSysctls.some((s) => s.key === 'net.bridge.bridge-nf-call-iptables'));
    const rp = spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.conf.br0.rp_filter'], { encoding: 'utf8' });
    assert.equal(rp.stdout.trim(), '0');
    const addrType = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/sys/class/net/br0/addr_assign_type'], { encoding: 'utf8' });
    assert.equal(addrType.stdout.trim(), '3', 'NET_ADDR_SET: the MAC no longer follows the ports');
  });

  it('reload: unchanged, set update (chains untouched), structural re-apply', async () => {
    assert.equal(await updateBridgeRules(input, input, opts), 'unchanged');
    const next = { ...input, protectedV4: ['10.20.0.10', '10.20.0.12'] };
    assert.equal(await updateBridgeRules(input, next, opts), 'updated');
    assert.match(await listBridgeRules('portcullis', opts), /10\.20\.0\.12 \. 443/);
    const moved = { ...next, mark: 0x2, routeTable: 102 };
    assert.equal(await updateBridgeRules(next, moved, opts), 'reapplied');
    assert.deepEqual((await inspectBridgeRules(input, opts)).ipRules, [], 'the old mark/table is gone');
    assert.equal((await inspectBridgeRules(moved, opts)).ipRules.length, 1);
    input = moved;
  });

  it('remove leaves nothing behind and is idempotent', async () => {
    await removeBridgeRules(input, opts);
    await removeBridgeRules(input, opts);
    assert.deepEqual(await inspectBridgeRules(input, opts), { tables: [], ipRules: [], routes: [] });
    assert.equal(await listBridgeRules('portcullis', opts), '');
  });
});
