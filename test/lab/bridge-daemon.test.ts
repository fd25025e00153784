/**
 * End to end through the REAL daemon in bridge mode: `portcullis run -c FILE` inside the gateway
 * namespace of the netns lab, client → router → bridge → server. The daemon installs the Design B rules
 * itself (after its transparent listeners are open) and removes them on a clean stop. Root only; under
 * CI=true a missing lab is a failure, never a skip (lab-harness.ts).
 *
 * Proof that a request went through the daemon: the daemon's access-log line for exactly that URL
 * (and the rule-ids response header, which only the daemon adds). Proof that it did not: the server
 * saw the client's own connection and the daemon logged nothing for it.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspectBridgeRules } from '../../src/platform/nft-apply.js';
import { assertLabAvailable, Lab, LabProcess, labSkip, repoRoot, sleep, uniquePrefix } from './lab-harness.js';

interface ServerView {
  server: string;
  sawPeer: string;
  sawLocal: string;
  url: string;
  xff: string | null;
}
interface LogLine {
  msg?: string;
  level?: number;
  path?: string;
  status?: number;
  peerIp?: string;
  upstream?: string | null;
  serverGroup?: string | null;
  alert?: { ruleIds?: string[]; ruleId?: string; rules?: unknown };
  [key: string]: unknown;
}
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const keepaliveFixture = join(repoRoot, 'test', 'lab', 'fixtures', 'keepalive-client.mjs');
const RULE_IDS_HEADER = 'x-portcullis-rule-ids';
// CRS 942100 (libinjection SQLi) and friends at paranoia level 1: well over the anomaly threshold.
const ATTACK_QUERY = '?id=1%27%20OR%20%271%27%3D%271%27%20--%20';

const host = (endpoint: string): string => endpoint.slice(0, endpoint.lastIndexOf(':'));

describe('the daemon in bridge mode, end to end in the netns lab', { skip: labSkip() }, () => {
  const lab = new Lab(uniquePrefix('bd'));
  const table = `pc_${lab.prefix}`;
  const state = { table, mark: 0x1, routeTable: 100 };
  const gw = { netns: lab.ns('gw') };
  let daemon: LabProcess | null = null;
  const daemons = new Set<LabProcess>();
  let tag = 0;
  const unique = (what: string): string => `/${what}-${++tag}-${Date.now().toString(36)}`;

  const writeConfig = (name: string, opts: { operationMode: string; transparency: string; failure: string; design?: string }): string => {
    const certs = join(lab.runDir, 'certs');
    const file = join(lab.runDir, `${name}.yaml`);
    writeFileSync(file, `
gateway:
  mode: bridge
  workers: 1
  log: { level: info }
  alerts: { ruleIdsHeader: ${RULE_IDS_HEADER} }
  control: { socket: ${join(lab.runDir, `${name}.sock`)} }
  timeouts: { shutdownGraceMs: 1000, connectMs: 2000 }
  bridge:
    interface: br0
    ports: [ext0, int0]
    transparency: ${opts.transparency}
    failure: ${opts.failure}
    design: ${opts.design ?? 'B'}
    nftTable: ${table}
sites:
  - name: Lab
    serverGroups:
      - name: lab-server
        operationMode: ${opts.operationMode}
        servers: [10.20.0.10, fd00:20::10]
        policies:
          crs: { paranoiaLevel: 1 }
        services:
          - name: web
            ports: [80]
            sslPorts: [443]
            certificates:
              - { name: lab-server, cert: ${certs}/server.crt, key: ${certs}/server.key }
            encrypt: true                      # :443 is TLS on the server as well
            caFile: ${certs}/server.crt        # self-signed: the certificate is its own CA
`);
    return file;
  };

  /** Starts `portcullis run` in the gateway namespace; resolves once it logged "daemon ready". */
  const startDaemon = async (configFile: string): Promise<LabProcess> => {
    // a daemon left running by a failed test would hold the ports
    for (const d of daemons) await d.stop('SIGKILL');
    const child = spawn('ip', ['netns', 'exec', lab.ns('gw'), process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'run', '-c', configFile], {
      cwd: repoRoot,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new LabProcess(child);
    daemon = proc;
    daemons.add(proc);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon not ready after 60 s:\n${proc.output()}`)), 60_000);
      proc.onLine((line) => {
        if (line.includes('"daemon ready"')) {
          clearTimeout(timer);
          resolve(proc);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${code ?? signal}) before ready:\n${proc.output()}`));
      });
    });
  };

  const logLines = (proc: LabProcess): LogLine[] =>
    proc.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  const accessLine = (proc: LabProcess, path: string): LogLine | undefined =>
    logLines(proc).find((l) => (l.msg === 'request' || l.msg === 'request failed') && typeof l.path === 'string' && l.path.startsWith(path));
  /** The access log is written asynchronously: give it a moment. */
  const waitAccessLine = async (proc: LabProcess, path: string): Promise<LogLine | undefined> => {
    for (let i = 0; i < 20; i++) {
      const line = accessLine(proc, path);
      if (line) return line;
      await sleep(50);
    }
    return undefined;
  };

  /** curl from the client with the response head. */
  const fetchFromClient = (url: string, maxSeconds = 3, extra: readonly string[] = []): Answer | null => {
    const r = lab.exec('client', ['curl', '-sk', '-i', '-m', String(maxSeconds), ...extra, url], (maxSeconds + 3) * 1000);
    if (r.status !== 0) return null;
    const split = r.stdout.indexOf('\r\n\r\n');
    const head = r.stdout.slice(0, split).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status: Number(head[0]!.split(' ')[1]), headers, body: r.stdout.slice(split + 4) };
  };
  const json = (a: Answer | null): ServerView | null => {
    if (a === null || a.status !== 200) return null;
    try {
      return JSON.parse(a.body) as ServerView;
    } catch {
      return null;
    }
  };

  const nothingInstalled = async (): Promise<void> => {
    assert.deepEqual(await inspectBridgeRules(state, gw), { tables: [], ipRules: [], routes: [] });
    assert.equal(lab.exec('gw', ['nft', 'list', 'ruleset']).stdout.trim(), '', 'no nftables rule at all');
    assert.doesNotMatch(lab.exec('gw', ['ip', 'rule', 'show']).stdout, /fwmark/, 'no fwmark ip rule');
    assert.doesNotMatch(lab.exec('gw', ['ip', '-6', 'rule', 'show']).stdout, /fwmark/, 'no fwmark ip -6 rule');
    assert.equal(lab.exec('gw', ['ip', 'route', 'show', 'table', '100']).stdout.trim(), '', 'no route in table 100');
  };

  let configs: Record<'active' | 'simulation' | 'gatewayIp' | 'closed' | 'designA', string>;

  before(() => {
    assertLabAvailable();
    lab.down(); // a leftover of a crashed run with the same prefix
    lab.up();
    configs = {
      active: writeConfig('active', { operationMode: 'active', transparency: 'client-ip', failure: 'open' }),
      simulation: writeConfig('simulation', { operationMode: 'simulation', transparency: 'client-ip', failure: 'open' }),
      gatewayIp: writeConfig('gateway-ip', { operationMode: 'active', transparency: 'gateway-ip', failure: 'open' }),
      closed: writeConfig('closed', { operationMode: 'active', transparency: 'client-ip', failure: 'closed' }),
      designA: writeConfig('design-a', { operationMode: 'active', transparency: 'client-ip', failure: 'closed', design: 'A' }),
    };
  });

  after(async () => {
    for (const d of daemons) await d.stop('SIGKILL');
    // whatever a failed test left behind goes with the namespace; down.sh removes the namespaces
    const r = lab.down();
    assert.equal(r.status, 0, r.stderr);
  });

  let keepalive: LabProcess | null = null;

  it('active, client-ip: HTTP, HTTPS and IPv6 go through the daemon and the server sees the client', async () => {
    // opened before the daemon starts; checked after its stop (last test of this daemon)
    keepalive = await lab.start('client', [process.execPath, keepaliveFixture, 'http://10.20.0.10/keepalive', '100'], {}, 'started');
    await nothingInstalled();
    const proc = await startDaemon(configs.active);

    const path = unique('http');
    const plain = fetchFromClient(`http://10.20.0.10${path}`);
    const seen = json(plain);
    assert.ok(seen, `HTTP answered: ${JSON.stringify(plain)}\n${proc.output()}`);
    assert.equal(seen.server, 'http-80');
    assert.equal(host(seen.sawPeer), '10.10.0.2', 'the server saw the client address');
    assert.equal(seen.xff, null, 'client-ip adds no X-Forwarded-For');
    // only the daemon adds this header; CRS notes the numeric Host (920350) but nothing blocking
    assert.equal(typeof plain!.headers[RULE_IDS_HEADER], 'string', 'the daemon inspected it (rule-ids header)');
    assert.doesNotMatch(plain!.headers[RULE_IDS_HEADER]!, /942\d{3}/);
    const line = await waitAccessLine(proc, path);
    assert.ok(line, `the daemon logged ${path}`);
    assert.equal(line.status, 200);
    assert.equal(line.peerIp, '10.10.0.2');
    assert.equal(line.upstream, '10.20.0.10:80');
    assert.equal(line.serverGroup, 'lab-server');

    const tlsPath = unique('https');
    // --cacert, not -k: the daemon must present the server's own certificate (IP SAN 10.20.0.10)
    const secure = fetchFromClient(`https://10.20.0.10${tlsPath}`, 3, ['--cacert', join(lab.runDir, 'certs', 'server.crt')]);
    const tlsSeen = json(secure);
    assert.ok(tlsSeen, `HTTPS answered: ${JSON.stringify(secure)}\n${proc.output()}`);
    assert.equal(tlsSeen.server, 'https-443', 're-encrypted toward the server (encrypt: true)');
    assert.equal(host(tlsSeen.sawPeer), '10.10.0.2');
    assert.ok(await waitAccessLine(proc, tlsPath), `the daemon logged ${tlsPath}`);

    const v6Path = unique('v6');
    const v6Seen = json(fetchFromClient(`http://[fd00:20::10]${v6Path}`));
    assert.ok(v6Seen, 'IPv6 answered');
    assert.equal(host(v6Seen.sawPeer), '[fd00:10::2]');
    assert.ok(await waitAccessLine(proc, v6Path), `the daemon logged ${v6Path}`);
  });

  it('active: an attack gets the block page from the daemon instead of the server answer', async () => {
    const path = unique('attack');
    const blocked = fetchFromClient(`http://10.20.0.10${path}${ATTACK_QUERY}`);
    assert.ok(blocked);
    assert.equal(blocked.status, 403, blocked.body);
    assert.match(blocked.headers['content-type'] ?? '', /text\/html/);
    assert.doesNotMatch(blocked.body, /sawPeer/, 'the block page, not the server');
    assert.match(blocked.headers[RULE_IDS_HEADER] ?? '', /942\d{3}/, 'CRS SQL injection rules matched');
    const line = await waitAccessLine(daemon!, path);
    assert.equal(line?.status, 403);
  });

  it('the unprotected address on the same port, other ports and ICMP are bridged untouched', async () => {
    const paths = [unique('unprotected'), unique('other-port'), unique('unprotected6')];
    const unprotected = json(fetchFromClient(`http://10.20.0.11${paths[0]}`));
    const other = json(fetchFromClient(`http://10.20.0.10:8080${paths[1]}`));
    const unprotected6 = json(fetchFromClient(`http://[fd00:20::11]${paths[2]}`));
    assert.equal(unprotected?.sawLocal, '10.20.0.11:80');
    assert.equal(other?.server, 'http-8080');
    assert.equal(unprotected6?.sawLocal, '[fd00:20::11]:80');
    for (const seen of [unprotected, other]) assert.equal(host(seen!.sawPeer), '10.10.0.2');
    assert.ok(lab.icmpEcho('10.20.0.10'), 'ping the protected server');
    await sleep(200);
    for (const p of paths) assert.equal(accessLine(daemon!, p), undefined, `the daemon never saw ${p}`);
  });

  it('reload (SIGHUP): a server added to the group is intercepted, set elements only, old flows untouched', async () => {
    const proc = daemon!;
    const text = readFileSync(configs.active, 'utf8');
    writeFileSync(configs.active, text.replace('servers: [10.20.0.10, fd00:20::10]', 'servers: [10.20.0.10, 10.20.0.11, fd00:20::10]'));
    try {
      proc.child.kill('SIGHUP');
      let updated: LogLine | undefined;
      for (let i = 0; i < 100 && !updated; i++) {
        updated = logLines(proc).find((l) => l.msg === 'bridge interception updated');
        if (!updated) await sleep(50);
      }
      assert.equal(updated?.outcome, 'updated', `set elements changed, no re-apply:\n${proc.output()}`);
      const path = unique('reloaded');
      const seen = json(fetchFromClient(`http://10.20.0.11${path}`));
      assert.equal(seen?.sawLocal, '10.20.0.11:80');
      assert.equal(host(seen.sawPeer), '10.10.0.2');
      assert.ok(await waitAccessLine(proc, path), '10.20.0.11 now goes through the daemon');
    } finally {
      writeFileSync(configs.active, text);
    }
  });

  it('clean stop: the keep-alive connection opened before the start survived, and nothing is left installed', async () => {
    await sleep(300);
    await daemon!.stop('SIGTERM');
    assert.equal(daemon!.child.exitCode, 0, daemon!.output());
    await sleep(300);
    await keepalive!.stop('SIGTERM');
    const answers = keepalive!.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { localPort?: number; sawPeer?: string; error?: string });
    assert.ok(answers.length >= 5, `only ${answers.length} requests: ${keepalive!.output()}`);
    assert.deepEqual(answers.filter((a) => a.error), [], 'no request on the old connection failed');
    assert.equal(new Set(answers.map((a) => a.localPort)).size, 1, 'all on one connection');
    for (const a of answers) assert.equal(a.sawPeer, `10.10.0.2:${a.localPort}`, 'the server saw the client connection itself');
    assert.equal(logLines(daemon!).filter((l) => l.msg === 'request' && l.path?.startsWith('/keepalive')).length, 0,
      'the daemon never handled the old connection');
    await nothingInstalled();
    assert.equal(json(fetchFromClient('http://10.20.0.10/after-stop'))?.url, '/after-stop', 'plain bridge again');
  });

  it('simulation: the attack passes with an alert; SIGKILL: protected traffic flows again within 1 s (fail-open)', async () => {
    const proc = await startDaemon(configs.simulation);
    const path = unique('sim-attack');
    const passed = fetchFromClient(`http://10.20.0.10${path}${ATTACK_QUERY}`);
    const seen = json(passed);
    assert.ok(seen, `the server answered: ${JSON.stringify(passed)}`);
    assert.equal(host(seen.sawPeer), '10.10.0.2');
    assert.match(passed!.headers[RULE_IDS_HEADER] ?? '', /942\d{3}/);
    let alert: LogLine | undefined;
    for (let i = 0; i < 20 && !alert; i++) {
      alert = logLines(proc).find((l) => l.msg === 'alert' && JSON.stringify(l).includes(path));
      if (!alert) await sleep(50);
    }
    assert.ok(alert, `an alert for ${path} in the daemon log:\n${proc.output()}`);

    await proc.stop('SIGKILL');
    const t0 = Date.now();
    let after: ServerView | null = null;
    while (!after && Date.now() - t0 < 3000) after = json(fetchFromClient('http://10.20.0.10/after-kill', 0.3));
    const elapsed = Date.now() - t0;
    assert.equal(after?.url, '/after-kill');
    assert.equal(host(after.sawPeer), '10.10.0.2');
    assert.ok(elapsed < 1000, `bridged again after ${elapsed} ms`);
    assert.equal((await inspectBridgeRules(state, gw)).tables.length, 2, 'SIGKILL leaves the rules (fail-open needs none removed)');
  });

  it('gateway-ip: the server sees the gateway address and X-Forwarded-For names the client', async () => {
    const proc = await startDaemon(configs.gatewayIp); // re-applies over the rules the SIGKILL left
    const path = unique('gw-ip');
    const seen = json(fetchFromClient(`http://10.20.0.10${path}`));
    assert.ok(seen, proc.output());
    assert.equal(host(seen.sawPeer), '10.20.0.254', "the gateway's br0 address");
    assert.equal(seen.xff, '10.10.0.2');
    assert.ok(await waitAccessLine(proc, path));
    await proc.stop('SIGTERM');
    await nothingInstalled();
  });

  it('failure closed: served while running; after SIGKILL protected traffic is dropped, other traffic bridges', async () => {
    const proc = await startDaemon(configs.closed);
    const path = unique('closed');
    assert.equal(json(fetchFromClient(`http://10.20.0.10${path}`))?.url, path);
    assert.ok(await waitAccessLine(proc, path));
    await proc.stop('SIGKILL');
    await sleep(200);
    assert.equal(fetchFromClient('http://10.20.0.10/closed-down', 1), null, 'dropped while the daemon is down');
    assert.equal(json(fetchFromClient('http://10.20.0.10:8080/closed-other'))?.server, 'http-8080');
    assert.equal(json(fetchFromClient('http://10.20.0.11/closed-unprotected'))?.sawLocal, '10.20.0.11:80');
    // a restart takes over the rules the crash left, and a clean stop removes them
    const again = await startDaemon(configs.closed);
    assert.equal(json(fetchFromClient('http://10.20.0.10/closed-again'))?.url, '/closed-again');
    await again.stop('SIGTERM');
    await nothingInstalled();
    assert.equal(json(fetchFromClient('http://10.20.0.10/closed-stopped'))?.url, '/closed-stopped', 'a clean stop leaves a plain bridge');
  });

  it('design A (TPROXY to port + 15000, br_netfilter off): intercepted with the client address; clean stop restores the bridge', async () => {
    const proc = await startDaemon(configs.designA);
    assert.equal(lab.exec('gw', ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables']).stdout.trim(), '0');
    const listening = lab.exec('gw', ['ss', '-Hltn']).stdout;
    assert.match(listening, /0\.0\.0\.0:15080\b/, 'the daemon listens on the TPROXY port');
    assert.doesNotMatch(listening, /0\.0\.0\.0:80\b/);
    const path = unique('design-a');
    const seen = json(fetchFromClient(`http://10.20.0.10${path}`));
    assert.equal(seen?.url, path, proc.output());
    assert.equal(host(seen.sawPeer), '10.10.0.2');
    assert.ok(await waitAccessLine(proc, path), 'through the daemon');
    const tlsSeen = json(fetchFromClient(`https://10.20.0.10${unique('design-a-tls')}`));
    assert.equal(tlsSeen?.server, 'https-443');
    await proc.stop('SIGTERM');
    await nothingInstalled();
    assert.equal(json(fetchFromClient('http://10.20.0.10/after-a'))?.url, '/after-a');
  });
});
