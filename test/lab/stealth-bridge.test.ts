/**
 * A "stealth" gateway: br0 without any address (BR_IP= for up.sh), Design B, full transparency. The
 * gateway answers from the protected server's address and connects from the client's, so it needs no
 * address of its own — only an on-link route to the server network and a default route via the router.
 * Root only.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyBridgeRules, removeBridgeRules, type AppliedBridgeRules } from '../../src/platform/nft-apply.js';
import type { BridgeRulesetInput } from '../../src/platform/nft-ruleset.js';
import { readInterfaceMac } from '../../src/platform/network-interfaces.js';
import { assertLabAvailable, Lab, labSkip, repoRoot, uniquePrefix, type LabProcess } from './lab-harness.js';

describe('stealth bridge (no address on br0), Design B', { skip: labSkip() }, () => {
  const lab = new Lab(uniquePrefix('ts'));
  const gw = { netns: lab.ns('gw') };
  let input: BridgeRulesetInput;
  let applied: AppliedBridgeRules | null = null;
  let proxy: LabProcess | null = null;

  before(async () => {
    assertLabAvailable();
    lab.down();
    lab.up({ BR_IP: '' });
    input = {
      design: 'B', table: 'pc_stealth', mark: 0x1, routeTable: 100, bridge: 'br0',
      bridgeMac: await readInterfaceMac('br0', gw), ports: ['ext0', 'int0'],
      protectedV4: ['10.20.0.10'], protectedV6: [], tcpPorts: [80], failure: 'open',
    };
  });
  after(async () => {
    await proxy?.stop('SIGKILL');
    if (applied) await removeBridgeRules(input, gw).catch(() => undefined);
    assert.equal(lab.down().status, 0);
  });

  it('br0 has no IPv4 address', () => {
    assert.doesNotMatch(lab.exec('gw', ['ip', '-4', 'addr', 'show', 'dev', 'br0']).stdout, /inet /);
  });

  it('intercepts with full transparency anyway', async () => {
    applied = await applyBridgeRules(input, gw);
    proxy = await lab.start('gw', [process.execPath, '--import', 'tsx', join(repoRoot, 'test', 'lab', 'fixtures', 'transparent-proxy.ts')]);
    const seen = lab.curlJson<{ sawPeer: string; url: string }>('http://10.20.0.10/stealth');
    assert.equal(seen?.url, '/stealth');
    const view = lab.curlJson<{ handled: Array<{ origDst: string; upstreamLocal: string }> }>('http://10.20.0.10/__proxy');
    const h = view?.handled.find((x) => x.origDst === '10.20.0.10:80');
    assert.ok(h, JSON.stringify(view));
    assert.equal(h.upstreamLocal, seen.sawPeer);
    assert.match(seen.sawPeer, /^10\.10\.0\.2:/);
  });
});
