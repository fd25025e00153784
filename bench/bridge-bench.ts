/**
 * Bridge-mode benchmark in the netns lab (issue #4, item 7), all ratios from ONE run on one lab:
 *
 *   (a) req/s, p50/p99 to the protected server 10.20.0.10:80 through the bridge with interception
 *       (the real daemon, Design B, operationMode disabled: the proxy path without the engine) vs a
 *       pure bridge (daemon stopped, its rules removed);
 *   (b) throughput (MB/s, wrk on a 1 MiB static body) of UNPROTECTED bridged traffic
 *       (10.20.0.11:9000) with the Design B rules loaded vs a plain bridge (target ≥ 90 %);
 *   (c) the same workload as (a) intercepted in bridge mode vs the daemon in alias mode on br0's
 *       address 10.20.0.254 proxying to 10.20.0.10 (target within 10 %).
 *
 * wrk runs in the client namespace; the daemon in the gateway namespace. Root only. Creates its own lab
 * (unique LAB_PREFIX) and always tears it down, also on an error or SIGINT/SIGTERM.
 *
 * The paths are measured in rounds (plain, bridge, alias, plain, bridge, alias, ...) and the median round
 * is reported, so a burst of load from other processes on a shared machine skews one round, not a path.
 *
 *   node --import tsx bench/bridge-bench.ts [--seconds N] [--rounds N] [--no-write]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspectBridgeRules } from '../src/platform/nft-apply.js';
import { Lab, labUnavailableReason, repoRoot, sleep, uniquePrefix } from '../test/lab/lab-harness.js';
import { describeMachine } from './lib/machine.js';
import { MemorySampler } from './lib/proc-memory.js';
import { writeSection } from './lib/report-section.js';
import { parseWrkOutput, totalErrors, wrkArgs, type WrkResult, type WrkRun } from './lib/wrk.js';

const SECTION = 'bridge-bench';
const PROTECTED = '10.20.0.10';
const UNPROTECTED = '10.20.0.11';
const ALIAS_ADDRESS = '10.20.0.254';
const BULK_PORT = 9000;
const BULK_BYTES = 1 << 20;
const WARMUP_S = 1;
const SMALL = { threads: 1, connections: 16 } as const;
const BULK = { threads: 1, connections: 4 } as const;

interface Options {
  seconds: number;
  rounds: number;
  write: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { seconds: 5, rounds: 3, write: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--seconds') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 600) throw new Error(`--seconds needs an integer 1..600, got ${argv[i]}`);
      o.seconds = n;
    } else if (a === '--rounds') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 20) throw new Error(`--rounds needs an integer 1..20, got ${argv[i]}`);
      o.rounds = n;
    } else if (a === '--no-write') o.write = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('node --import tsx bench/bridge-bench.ts [--seconds N (default 5)] [--rounds N (default 3)] [--no-write]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

interface Round {
  readonly plainSmall: Measured;
  readonly plainBulk: Measured;
  readonly bridgeSmall: Measured;
  readonly bridgeBulk: Measured;
  readonly aliasSmall: Measured;
}

interface Measured {
  readonly result: WrkResult;
  /** Sockets on :80 held in the gateway namespace halfway through the run (0 = nothing intercepted). */
  readonly gatewaySockets: number;
  /** Peak summed VmRSS of the daemon tree during the run, KiB (null without a daemon). */
  readonly peakRssKb: number | null;
}

class Bench {
  readonly lab: Lab;
  private daemon: ChildProcess | null = null;
  private daemonOut = '';

  constructor(readonly seconds: number) {
    this.lab = new Lab(uniquePrefix('bb'));
  }

  /** wrk inside the client namespace; the done() hook's JSON line is parsed, nothing scraped. */
  private wrk(run: WrkRun): Promise<WrkResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.lab.ns('client'), 'wrk', ...wrkArgs(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`wrk ${run.url} exited with ${code}: ${err.trim() || out.trim()}`));
        try {
          resolve(parseWrkOutput(out));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  private gatewaySocketsOn80(): number {
    const r = this.lab.exec('gw', ['ss', '-Htn', 'state', 'established', '( sport = :80 )']);
    return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
  }

  /** 1 s warm-up (discarded), then the measured run; samples the daemon's memory meanwhile. */
  async measure(url: string, script: string, shape: { threads: number; connections: number }): Promise<Measured> {
    await this.wrk({ url, script, ...shape, durationS: WARMUP_S });
    const sampler = this.daemon?.pid ? new MemorySampler(this.daemon.pid) : null;
    sampler?.start();
    const running = this.wrk({ url, script, ...shape, durationS: this.seconds });
    await sleep((this.seconds * 1000) / 2);
    const gatewaySockets = this.gatewaySocketsOn80();
    const result = await running;
    const mem = sampler?.stop();
    if (totalErrors(result) > 0) throw new Error(`${url}: ${totalErrors(result)} errors in ${result.requests} requests: ${JSON.stringify(result.errors)} non2xx=${result.non2xx}`);
    return { result, gatewaySockets, peakRssKb: mem ? sampler!.peakRssKb : null };
  }

  /** `portcullis run -c FILE` in the gateway namespace; resolves on "daemon ready". */
  async startDaemon(configFile: string): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.lab.ns('gw'), process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'run', '-c', configFile], {
      cwd: repoRoot,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.daemon = child;
    this.daemonOut = '';
    const keep = (d: string): void => {
      this.daemonOut = (this.daemonOut + d).slice(-16_000);
    };
    child.stdout!.setEncoding('utf8').on('data', keep);
    child.stderr!.setEncoding('utf8').on('data', keep);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon not ready after 60 s:\n${this.daemonOut}`)), 60_000);
      const onData = (): void => {
        if (this.daemonOut.includes('"daemon ready"')) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${code ?? signal}) before ready:\n${this.daemonOut}`));
      });
    });
  }

  /** SIGTERM (a clean stop removes the Design B rules); SIGKILL after 15 s. */
  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.daemon;
    this.daemon = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    if (signal === 'SIGTERM' && child.exitCode !== 0) throw new Error(`daemon stop exited with ${child.exitCode ?? child.signalCode}:\n${this.daemonOut}`);
  }

  /** Kills what this run started and removes the lab; never throws (it runs on the error path). */
  async teardown(): Promise<void> {
    try {
      await this.stopDaemon('SIGKILL');
    } catch { /* the namespace goes anyway */ }
    const r = this.lab.down();
    if (r.status !== 0) process.stderr.write(`bridge-bench: down.sh failed: ${r.stderr}\n`);
  }
}

const gatewayBlock = (runDir: string, name: string): string => `
  workers: 1
  log: { level: info, accessLog: false }
  control: { socket: ${join(runDir, `${name}.sock`)} }
  timeouts: { shutdownGraceMs: 1000, connectMs: 2000 }`;

function bridgeConfig(runDir: string, table: string): string {
  return `
gateway:
  mode: bridge${gatewayBlock(runDir, 'bridge')}
  bridge:
    interface: br0
    ports: [ext0, int0]
    transparency: client-ip
    failure: open
    design: B
    nftTable: ${table}
sites:
  - name: Lab
    serverGroups:
      - name: lab-server
        operationMode: disabled
        servers: [${PROTECTED}]
        services:
          - name: web
            ports: [80]
`;
}

function aliasConfig(runDir: string): string {
  return `
gateway:
  mode: alias${gatewayBlock(runDir, 'alias')}
  aliases:
    - { name: br, device: br0, address: ${ALIAS_ADDRESS}/24 }
sites:
  - name: Lab
    serverGroups:
      - name: lab-server
        operationMode: disabled
        servers: [${PROTECTED}]
        services:
          - name: web
            ports: [80]
            reverseProxy:
              - alias: br
                port: 80
                rules: [{ priority: 10, host: '*', urlPrefix: '/', serverIp: ${PROTECTED}, serverPort: 80 }]
`;
}

/** A static 1 MiB body on :9000 in the server namespace (bulk throughput, unprotected port and IP). */
const BULK_SERVER = `
const http = require('node:http');
const body = Buffer.alloc(${BULK_BYTES}, 'x');
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }); res.end(body); })
  .listen(${BULK_PORT}, '0.0.0.0', () => console.log('ready'));
`;

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mbps = (r: WrkResult): number => r.bytes / r.durationS / 1e6;
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const mib = (kb: number | null): string => (kb === null ? '–' : `${(kb / 1024).toFixed(1)} MiB`);

export async function main(argv: string[]): Promise<void> {
  const opts = parseArgs(argv);
  const unavailable = labUnavailableReason();
  if (unavailable) throw new Error(`bridge-bench: ${unavailable}`);
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  const machine = describeMachine();
  const bench = new Bench(opts.seconds);
  const { lab } = bench;
  const table = `pc_${lab.prefix}`;

  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`bridge-bench: ${sig}, tearing the lab down\n`);
    void bench.teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    lab.down(); // a leftover of a crashed run with the same prefix
    lab.up();
    const bridgeFile = join(lab.runDir, 'bridge.yaml');
    const aliasFile = join(lab.runDir, 'alias.yaml');
    const bulkLua = join(lab.runDir, 'bulk.lua');
    writeFileSync(bridgeFile, bridgeConfig(lab.runDir, table));
    writeFileSync(aliasFile, aliasConfig(lab.runDir));
    writeFileSync(bulkLua, `local report = dofile(${JSON.stringify(join(repoRoot, 'bench', 'wrk', 'report.lua'))})\ndone = report.done\n`);
    const getLua = join(repoRoot, 'bench', 'wrk', 'get.lua');
    await lab.start('server', [process.execPath, '-e', BULK_SERVER]);

    const smallUrl = `http://${PROTECTED}/`;
    const bulkUrl = `http://${UNPROTECTED}:${BULK_PORT}/`;
    const gw = { netns: lab.ns('gw') };
    const rulesLoaded = async (): Promise<number> => (await inspectBridgeRules({ table, mark: 0x1, routeTable: 100 }, gw)).tables.length;

    const rounds: Round[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      process.stderr.write(`bridge-bench: round ${round}/${opts.rounds}: plain bridge (no daemon, no rules)\n`);
      if ((await rulesLoaded()) !== 0) throw new Error('rules present before the plain-bridge runs');
      const plainSmall = await bench.measure(smallUrl, getLua, SMALL);
      const plainBulk = await bench.measure(bulkUrl, bulkLua, BULK);

      process.stderr.write(`bridge-bench: round ${round}/${opts.rounds}: bridge mode, Design B, engine off\n`);
      await bench.startDaemon(bridgeFile);
      if ((await rulesLoaded()) === 0) throw new Error('the daemon is ready but no Design B table is loaded');
      const bridgeSmall = await bench.measure(smallUrl, getLua, SMALL);
      const bridgeBulk = await bench.measure(bulkUrl, bulkLua, BULK);
      await bench.stopDaemon();
      if ((await rulesLoaded()) !== 0) throw new Error('a clean stop left Design B tables behind');

      process.stderr.write(`bridge-bench: round ${round}/${opts.rounds}: alias mode on ${ALIAS_ADDRESS}\n`);
      await bench.startDaemon(aliasFile);
      const aliasSmall = await bench.measure(`http://${ALIAS_ADDRESS}/`, getLua, SMALL);
      await bench.stopDaemon();

      // Proof of the paths: the daemon held connections in the gateway namespace only when it should.
      if (plainSmall.gatewaySockets !== 0) throw new Error(`plain bridge: ${plainSmall.gatewaySockets} sockets on :80 in the gateway namespace`);
      if (bridgeSmall.gatewaySockets === 0) throw new Error('bridge mode: no intercepted connection seen in the gateway namespace');
      if (aliasSmall.gatewaySockets === 0) throw new Error('alias mode: no connection seen in the gateway namespace');
      if (bridgeBulk.gatewaySockets !== 0) throw new Error(`unprotected bulk traffic was intercepted (${bridgeBulk.gatewaySockets} sockets on :80)`);
      rounds.push({ plainSmall, plainBulk, bridgeSmall, bridgeBulk, aliasSmall });
    }
    const ratiosOf = (r: Round): [number, number, number] => [
      r.bridgeSmall.result.rps / r.plainSmall.result.rps,
      mbps(r.bridgeBulk.result) / mbps(r.plainBulk.result),
      r.bridgeSmall.result.rps / r.aliasSmall.result.rps,
    ];
    // Median per path (by req/s, or MB/s for bulk): each row is one real run, never a blend of runs.
    const median = (pick: (r: Round) => Measured, key: (m: Measured) => number): Measured => {
      const sorted = rounds.map(pick).sort((x, y) => key(x) - key(y));
      return sorted[(sorted.length - 1) >> 1]!;
    };
    const rps = (m: Measured): number => m.result.rps;
    const plainSmall = median((r) => r.plainSmall, rps);
    const bridgeSmall = median((r) => r.bridgeSmall, rps);
    const aliasSmall = median((r) => r.aliasSmall, rps);
    const plainBulk = median((r) => r.plainBulk, (m) => mbps(m.result));
    const bridgeBulk = median((r) => r.bridgeBulk, (m) => mbps(m.result));

    const loadAfter = os.loadavg();
    const underLoad = loadBefore[0]! > 1.5;
    const ratioA = bridgeSmall.result.rps / plainSmall.result.rps;
    const ratioB = mbps(bridgeBulk.result) / mbps(plainBulk.result);
    const ratioC = bridgeSmall.result.rps / aliasSmall.result.rps;
    const row = (name: string, m: Measured): string =>
      `| ${name} | ${fmt(m.result.rps)} | ${m.result.latencyMs.p50.toFixed(2)} | ${m.result.latencyMs.p99.toFixed(2)} | ${m.gatewaySockets} | ${mib(m.peakRssKb)} |`;
    const bulkRow = (name: string, m: Measured): string =>
      `| ${name} | ${fmt(mbps(m.result), 1)} | ${fmt(m.result.rps, 1)} | ${m.result.latencyMs.p50.toFixed(2)} | ${m.result.latencyMs.p99.toFixed(2)} | ${mib(m.peakRssKb)} |`;

    const body = [
      `## Bridge mode in the netns lab (bridge-bench)${underLoad ? ' — measured under load' : ''}`,
      '',
      `Command: \`node --import tsx bench/bridge-bench.ts --seconds ${opts.seconds} --rounds ${opts.rounds}\` (root). One run, one lab`,
      `(LAB_PREFIX ${lab.prefix}): wrk in the client namespace, through router and the gateway's br0, to the lab server;`,
      `the daemon (\`node --import tsx src/cli/main.ts run\`, 1 worker, access log off) in the gateway namespace.`,
      `Each measurement: ${WARMUP_S} s warm-up (discarded) + ${opts.seconds} s measured. The paths alternate over ${opts.rounds} round(s)`,
      '(plain bridge, bridge mode, alias mode, again ...); each table row is the median round of its path, the ratios are',
      'between those medians, and the per-round ratios show the spread.',
      '',
      `- Date: ${startedAt.toISOString()}`,
      `- Machine: ${machine.cpus} CPU (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, ${machine.wrk}`,
      `- Load average (1/5/15 min): before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}` +
        (underLoad ? ' — **measured under load** (1-minute load > 1.5 at the start; the machine is shared, so absolute numbers are low and noisy, compare the ratios)' : ''),
      '',
      `### Ratios`,
      '',
      '| Comparison | Ratio | Target |',
      '|---|---|---|',
      `| (a) intercepted (Design B, engine off) / pure bridge, req/s | ${pct(ratioA)} | – (the cost of the proxy hop) |`,
      `| (b) unprotected bulk throughput, Design B rules loaded / plain bridge, MB/s | ${pct(ratioB)} | ≥ 90 % ${ratioB >= 0.9 ? '(met)' : '(NOT met)'} |`,
      `| (c) intercepted bridge mode / alias mode, req/s | ${pct(ratioC)} | within 10 % ${Math.abs(1 - ratioC) <= 0.1 ? '(met)' : '(NOT met)'} |`,
      '',
      '| Round | (a) | (b) | (c) |',
      '|---|---|---|---|',
      ...rounds.map((r, i) => `| ${i + 1} | ${ratiosOf(r).map(pct).join(' | ')} |`),
      '',
      `### Requests to the protected server (wrk \`bench/wrk/get.lua\`, -t${SMALL.threads} -c${SMALL.connections})`,
      '',
      '| Path | req/s | p50 ms | p99 ms | daemon sockets on :80 (mid-run) | daemon peak RSS |',
      '|---|---|---|---|---|---|',
      row(`pure bridge → ${PROTECTED}:80 (daemon stopped, rules removed)`, plainSmall),
      row(`bridge mode, Design B, operationMode disabled → ${PROTECTED}:80`, bridgeSmall),
      row(`alias mode on ${ALIAS_ADDRESS}:80 → ${PROTECTED}:80`, aliasSmall),
      '',
      `### Unprotected bulk traffic (${BULK_BYTES / 1024} KiB static body from ${UNPROTECTED}:${BULK_PORT}, wrk -t${BULK.threads} -c${BULK.connections})`,
      '',
      '| Path | MB/s | responses/s | p50 ms | p99 ms | daemon peak RSS |',
      '|---|---|---|---|---|---|',
      bulkRow('plain bridge', plainBulk),
      bulkRow('Design B rules loaded (daemon running)', bridgeBulk),
      '',
      'The wrk client, the daemon and the servers share the same CPUs, so a ratio reflects CPU contention as well as the',
      'data path. "daemon sockets on :80" counts established TCP sockets on port 80 in the gateway namespace halfway',
      'through the run: 0 proves the pure bridge did not intercept, > 0 that the daemon carried the traffic.',
    ].join('\n');

    process.stdout.write(`${body}\n`);
    if (opts.write) {
      const file = join(repoRoot, 'docs', 'BENCHMARKS.md');
      writeSection(file, SECTION, body);
      process.stderr.write(`bridge-bench: wrote section ${SECTION} of ${file}\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await bench.teardown();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`bridge-bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
