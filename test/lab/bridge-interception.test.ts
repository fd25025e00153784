/**
 * End to end through the netns lab: client → router → bridge (gateway) → server, with the Design B rule
 * set applied by src/platform/nft-apply.ts and a small transparent proxy (test/lab/fixtures) standing in
 * for the daemon inside the gateway namespace. Root only (see lab-harness.ts).
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyBridgeRules, inspectBridgeRules, removeBridgeRules, type AppliedBridgeRules } from '../../src/platform/nft-apply.js';
import type { BridgeRulesetInput } from '../../src/platform/nft-ruleset.js';
import { readInterfaceMac, listBridgePorts } from '../../src/platform/network-interfaces.js';
import { assertLabAvailable, Lab, labSkip, repoRoot, sleep, uniquePrefix, type LabProcess } from './lab-harness.js';

interface ServerView {
  server: string;
  sawPeer: string;
  sawLocal: string;
  url: string;
}
interface ProxyView {
  handled: Array<{ kind: string; client: string; origDst: string; upstreamLocal: string | null; error: string | null }>;
}

const proxyFixture = join(repoRoot, 'test', 'lab', 'fixtures', 'transparent-proxy.ts');
const keepaliveFixture = join(repoRoot, 'test', 'lab', 'fixtures', 'keepalive-client.mjs');

describe('bridge interception in the netns lab (Design B)', { skip: labSkip() }, () => {
  const lab = new Lab(uniquePrefix('tb'));
  const gw = { netns: lab.ns('gw') };
  let input: BridgeRulesetInput;
  let applied: AppliedBridgeRules | null = null;
  let proxy: LabProcess | null = null;

  const startProxy = async (env: Record<string, string> = {}): Promise<LabProcess> => {
    proxy = await lab.start('gw', [process.execPath, '--import', 'tsx', proxyFixture], {
      PROXY_CERT_DIR: join(lab.runDir, 'certs'),
      PROXY_V6: '1',
      ...env,
    });
    return proxy;
  };
  const proxyView = (): ProxyView => {
    const v = lab.curlJson<ProxyView>('http://10.20.0.10/__proxy');
    assert.ok(v, 'the proxy answers /__proxy');
    return v;
  };
  const port = (endpoint: string): string => endpoint.slice(endpoint.lastIndexOf(':') + 1);
  const host = (endpoint: string): string => endpoint.slice(0, endpoint.lastIndexOf(':'));

  before(async () => {
    assertLabAvailable();
    lab.down(); // a leftover of a crashed run with the same prefix
    lab.up();
    const bridgeMac = await readInterfaceMac('br0', gw);
    input = {
      design: 'B',
      table: `pc_${lab.prefix}`,
      mark: 0x1,
      routeTable: 100,
      bridge: 'br0',
      bridgeMac,
      ports: await listBridgePorts('br0', gw),
      protectedV4: ['10.20.0.10'],
      protectedV6: ['fd00:20::10'],
      tcpPorts: [80, 443],
      failure: 'open',
    };
  });

  after(async () => {
    await proxy?.stop('SIGKILL');
    if (applied) await removeBridgeRules(input, { ...gw, restoreSysctls: applied.previousSysctls }).catch(() => undefined);
    const r = lab.down();
    assert.equal(r.status, 0, r.stderr);
  });

  it('plain bridge: HTTP :80/:8080, HTTPS, the unprotected address and ICMP pass untouched', () => {
    assert.deepEqual(input.ports, ['ext0', 'int0'], 'the bridge ports as read from the gateway');
    for (const url of ['http://10.20.0.10/', 'http://10.20.0.10:8080/', 'http://10.20.0.11/', 'https://10.20.0.10/']) {
      const seen = lab.curlJson<ServerView>(url);
      assert.ok(seen, `${url} answered`);
      assert.equal(host(seen.sawPeer), '10.10.0.2', url);
    }
    assert.ok(lab.icmpEcho('10.20.0.10'));
  });

  it('rules applied, no listener yet: protected traffic is bridged (fail-open)', async () => {
    applied = await applyBridgeRules(input, gw);
    const seen = lab.curlJson<ServerView>('http://10.20.0.10/no-listener');
    assert.equal(seen?.server, 'http-80');
    assert.equal(host(seen.sawPeer), '10.10.0.2');
  });

  it('listener up: HTTP, HTTPS and IPv6 are intercepted and the server sees the client address', async () => {
    await startProxy();
    const seen = lab.curlJson<ServerView>('http://10.20.0.10/intercepted');
    assert.equal(seen?.url, '/intercepted');
    const tlsSeen = lab.curlJson<ServerView>('https://10.20.0.10/tls');
    assert.equal(tlsSeen?.server, 'https-443');
    const v6Seen = lab.curlJson<ServerView>('http://[fd00:20::10]/v6');
    assert.equal(v6Seen?.url, '/v6');

    const { handled } = proxyView();
    const byDst = (dst: string): ProxyView['handled'][number] | undefined => handled.find((h) => h.origDst === dst);
    const plain = byDst('10.20.0.10:80');
    const secure = byDst('10.20.0.10:443');
    const v6 = byDst('[fd00:20::10]:80');
    assert.ok(plain && secure && v6, JSON.stringify(handled));
    // the proxy accepted the client's connection on the original destination …
    assert.equal(host(plain.client), '10.10.0.2');
    assert.equal(secure.kind, 'tls');
    assert.equal(host(v6.client), '[fd00:10::2]');
    // … and the server saw the proxy's upstream socket, sourced from the client's address
    assert.equal(plain.upstreamLocal, seen.sawPeer);
    assert.equal(secure.upstreamLocal, tlsSeen.sawPeer);
    assert.equal(v6.upstreamLocal, v6Seen.sawPeer);
    assert.equal(host(seen.sawPeer), '10.10.0.2');
    assert.notEqual(port(plain.client), port(seen.sawPeer), 'two TCP connections: client leg and upstream leg');
  });

  it('with the listener up, other ports, the unprotected address and ICMP stay bridged', () => {
    const before = proxyView().handled.length;
    const other = lab.curlJson<ServerView>('http://10.20.0.10:8080/other-port');
    const unprotected = lab.curlJson<ServerView>('http://10.20.0.11/unprotected');
    const unprotectedV6 = lab.curlJson<ServerView>('http://[fd00:20::11]/unprotected6');
    assert.equal(other?.server, 'http-8080');
    assert.equal(unprotected?.sawLocal, '10.20.0.11:80');
    assert.equal(unprotectedV6?.sawLocal, '[fd00:20::11]:80');
    assert.ok(lab.icmpEcho('10.20.0.10'));
    assert.equal(proxyView().handled.length, before, 'the proxy saw none of them');
  });

  it('SIGKILL of the listener: protected traffic flows again within 1 s (fail-open)', async () => {
    await proxy!.stop('SIGKILL');
    const t0 = Date.now();
    let seen: ServerView | null = null;
    while (!seen && Date.now() - t0 < 3000) seen = lab.curlJson<ServerView>('http://10.20.0.10/after-kill', 0.3);
    const elapsed = Date.now() - t0;
    assert.equal(seen?.url, '/after-kill');
    assert.ok(elapsed < 1000, `bridged again after ${elapsed} ms`);
  });

  it('a keep-alive connection opened before the listener starts survives its start and stop', async () => {
    const client = await lab.start('client', [process.execPath, keepaliveFixture, 'http://10.20.0.10/ka', '100'], {}, 'started');
    await startProxy();
    assert.equal(lab.curlJson<ServerView>('http://10.20.0.10/new-conn')?.url, '/new-conn');
    const intercepted = proxyView().handled.filter((h) => h.origDst === '10.20.0.10:80');
    assert.equal(intercepted.length, 1, 'new connections are intercepted meanwhile');
    await sleep(300);
    await proxy!.stop('SIGTERM');
    await sleep(400);
    await client.stop('SIGTERM');
    const answers = client.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { localPort?: number; status?: number; sawPeer?: string; error?: string });
    assert.ok(answers.length >= 8, `only ${answers.length} requests: ${client.output()}`);
    assert.deepEqual(answers.filter((a) => a.error), [], 'no request failed');
    const ports = new Set(answers.map((a) => a.localPort));
    assert.equal(ports.size, 1, 'all requests on one connection');
    for (const a of answers) assert.equal(a.sawPeer, `10.10.0.2:${a.localPort}`, 'the server saw the client connection itself (never intercepted)');
    assert.ok(!intercepted.some((h) => port(h.client) === String(answers[0]!.localPort)), 'the proxy never got the old connection');
  });

  it('failure closed: protected SYNs are dropped while no listener exists, other traffic still bridges', async () => {
    input = { ...input, failure: 'closed' };
    await applyBridgeRules(input, gw); // atomic replace of the previous generation
    assert.equal(lab.curlJson('http://10.20.0.10/closed', 1), null, 'no listener: dropped');
    assert.equal(lab.curlJson<ServerView>('http://10.20.0.10:8080/closed-other')?.server, 'http-8080');
    assert.equal(lab.curlJson<ServerView>('http://10.20.0.11/closed-unprotected')?.sawLocal, '10.20.0.11:80');
    await startProxy();
    assert.equal(lab.curlJson<ServerView>('http://10.20.0.10/closed-listening')?.url, '/closed-listening');
    await proxy!.stop('SIGKILL');
    assert.equal(lab.curlJson('http://10.20.0.10/closed-again', 1), null, 'listener gone: dropped again');
  });

  it('removal leaves no rules, routes or marks, and the bridge keeps forwarding', async () => {
    await removeBridgeRules(input, { ...gw, restoreSysctls: applied!.previousSysctls });
    applied = null;
    assert.deepEqual(await inspectBridgeRules(input, gw), { tables: [], ipRules: [], routes: [] });
    assert.equal(lab.exec('gw', ['nft', 'list', 'ruleset']).stdout.trim(), '');
    assert.equal(lab.exec('gw', ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables']).stdout.trim(), '0', 'sysctl restored');
    await removeBridgeRules(input, gw); // idempotent
    assert.equal(lab.curlJson<ServerView>('http://10.20.0.10/after-removal')?.url, '/after-removal');
  });

  it('design A (TPROXY to daemon ports, fails closed): intercepted with the client address; no daemon = black hole; removal restores bridging', async () => {
    const a: BridgeRulesetInput = { ...input, design: 'A', failure: 'closed', protectedV6: [], tproxyPorts: { 80: 15080, 443: 15443 } };
    const appliedA = await applyBridgeRules(a, gw);
    applied = appliedA;
    input = a;
    assert.equal(lab.exec('gw', ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables']).stdout.trim(), '0', 'br_netfilter off for design A');
    await startProxy({ PROXY_HTTP_PORT: '15080', PROXY_TLS_PORT: '15443', PROXY_V6: '0' });
    const seen = lab.curlJson<ServerView>('http://10.20.0.10/design-a');
    const tlsSeen = lab.curlJson<ServerView>('https://10.20.0.10/design-a-tls');
    assert.equal(seen?.url, '/design-a');
    assert.equal(tlsSeen?.server, 'https-443');
    const { handled } = proxyView();
    const plain = handled.find((h) => h.origDst === '10.20.0.10:80');
    assert.ok(plain, JSON.stringify(handled));
    assert.equal(plain.upstreamLocal, seen.sawPeer, 'the server saw the proxy upstream, sourced from the client address');
    assert.equal(host(seen.sawPeer), '10.10.0.2');
    assert.equal(lab.curlJson<ServerView>('http://10.20.0.10:8080/a-other')?.server, 'http-8080', 'other ports bridged');
    await proxy!.stop('SIGKILL');
    assert.equal(lab.curlJson('http://10.20.0.10/design-a-down', 1), null, 'design A fails closed');
    await removeBridgeRules(a, { ...gw, restoreSysctls: appliedA.previousSysctls });
    applied = null;
    assert.deepEqual(await inspectBridgeRules(a, gw), { tables: [], ipRules: [], routes: [] });
    assert.equal(lab.curlJson<ServerView>('http://10.20.0.10/after-a')?.url, '/after-a');
  });
});
