/**
 * The proxy benchmark (issue #2 item 9, issue #3 item 8). One run measures, on loopback, every target
 * against the same origin with the same wrk workloads, and reports ratios between them:
 *
 *   direct          wrk → origin
 *   portcullis      wrk → Portcullis alias mode, engine off (operationMode disabled, no policies)
 *   nginx           wrk → nginx reverse proxy (upstream keepalive 64, HTTP/1.1, worker_processes auto)
 *   portcullis-crs  wrk → Portcullis alias mode, OWASP CRS at PL1, operationMode active
 *   nginx-modsec    wrk → nginx + ModSecurity v3 + the same Debian CRS at PL1, SecRuleEngine On
 *
 * Workloads: `get` (browser-like GET with query string and cookies) and `post` (2 KB urlencoded form),
 * bench/wrk/*.lua. Each (target, workload) gets a warm-up run, then the measured run. The gateway's
 * memory (VmRSS summed over master and workers, sampled; VmHWM from the kernel) is recorded.
 *
 * Run:  npm run bench -- proxy [options]     (or: node --import tsx bench/proxy-bench.ts [options])
 * It rewrites the `proxy-bench` section of docs/BENCHMARKS.md unless --no-write is given.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import os from 'node:os';
import { runWrk, totalErrors, type WrkResult } from './lib/wrk.js';
import { freePort, waitForPort } from './lib/ports.js';
import { startNginx, originNginxConf, proxyNginxConf, type NginxInstance } from './lib/nginx.js';
import { writeModsecurityRules } from './lib/modsecurity.js';
import { startGateway, probe, REPO_ROOT, type GatewayInstance } from './lib/gateway.js';
import { MemorySampler, treeMemory, type TreeMemory } from './lib/proc-memory.js';
import { describeMachine } from './lib/machine.js';
import { writeSection } from './lib/report-section.js';
// @ts-expect-error: plain ESM module without type declarations
import { ORIGIN_PAGE, ORIGIN_POST_REPLY } from './origin.mjs';

const TARGETS = ['direct', 'other-origin', 'portcullis', 'nginx', 'portcullis-crs', 'nginx-modsec'] as const;
type TargetName = (typeof TARGETS)[number];
const WORKLOADS = {
  get: { title: 'Browser-like GET (query string, cookies, Chrome headers)', script: 'get.lua' },
  post: { title: '2 KB application/x-www-form-urlencoded POST', script: 'post.lua' },
  // Not in the default run: every request with its own session cookie / CSRF token and search term, so
  // nothing repeats for a per-value memo (bench/wrk/get-fresh.lua). Written to their own section.
  'get-fresh': { title: 'Browser-like GET, fresh (unique session cookie and search term per request)', script: 'get-fresh.lua' },
  'post-fresh': { title: '2 KB form POST, fresh (unique CSRF token per request)', script: 'post-fresh.lua' },
} as const;
const DEFAULT_WORKLOADS = ['get', 'post'] as const;
type WorkloadName = keyof typeof WORKLOADS;

/** Above this 1-minute load average at the start, the report says the machine was busy. */
const BUSY_LOAD = 1.5;

const TARGET_LABEL: Record<TargetName, string> = {
  direct: 'direct to origin',
  'other-origin': 'direct to the other origin (comparison)',
  portcullis: 'Portcullis alias, engine off',
  nginx: 'nginx reverse proxy',
  'portcullis-crs': 'Portcullis alias, CRS PL1 active',
  'nginx-modsec': 'nginx + ModSecurity v3, CRS PL1',
};

interface Options {
  durationS: number;
  rounds: number;
  warmupS: number;
  connections: number;
  threads: number;
  targets: TargetName[];
  workloads: WorkloadName[];
  origin: 'node' | 'nginx';
  workers: number | 'auto';
  accessLog: boolean;
  write: boolean;
  label: string | null;
}

const USAGE = `usage: npm run bench -- proxy [options]
  --duration S         measured seconds per (target, workload)       (default 10)
  --rounds N           measure every (target, workload) N times, the targets alternated within each
                       round and all kept running; rows show each target's median round, ratios the
                       median of the per-round ratios with their range    (default 1)
  --warmup S           warm-up seconds before each measured run      (default 3)
  --connections N      wrk connections, keep-alive                    (default 64)
  --threads N          wrk threads                                    (default: number of cores, at most 2)
  --targets LIST       comma list of ${TARGETS.join(',')}
                       (default: all)
  --workloads LIST     comma list of get,post,get-fresh,post-fresh     (default: get,post; a run of only
                       the -fresh ones writes the proxy-bench-fresh section)
  --origin node|nginx  the origin server                              (default nginx: see docs/BENCHMARKS.md)
  --workers N|auto     gateway.workers for Portcullis                 (default auto)
  --no-access-log      turn the access log off for Portcullis AND nginx (default: on for both, to a file)
  --label TEXT         a note printed with the results (e.g. "under load")
  --no-write           print the report, do not touch docs/BENCHMARKS.md
`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    durationS: 10, rounds: 1, warmupS: 3, connections: 64, threads: Math.min(2, os.availableParallelism()),
    targets: [...TARGETS], workloads: [...DEFAULT_WORKLOADS], origin: 'nginx', workers: 'auto',
    accessLog: true, write: true, label: null,
  };
  const need = (i: number) => {
    const v = argv[i + 1];
    if (v === undefined) die(`missing value for ${argv[i]}`);
    return v;
  };
  const posInt = (v: string, what: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) die(`${what} must be a positive integer (got ${v})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--duration': o.durationS = posInt(need(i), a); i++; break;
      case '--rounds': o.rounds = posInt(need(i), a); i++; break;
      case '--warmup': o.warmupS = Number(need(i)); i++; if (!(o.warmupS >= 0)) die('--warmup must be >= 0'); break;
      case '--connections': o.connections = posInt(need(i), a); i++; break;
      case '--threads': o.threads = posInt(need(i), a); i++; break;
      case '--targets': {
        const list = need(i).split(',').map((s) => s.trim()).filter(Boolean);
        i++;
        for (const t of list) if (!(TARGETS as readonly string[]).includes(t)) die(`unknown target ${t}; known: ${TARGETS.join(', ')}`);
        o.targets = TARGETS.filter((t) => list.includes(t));
        break;
      }
      case '--workloads': {
        const list = need(i).split(',').map((s) => s.trim()).filter(Boolean);
        i++;
        for (const w of list) if (!(w in WORKLOADS)) die(`unknown workload ${w}; known: ${Object.keys(WORKLOADS).join(', ')}`);
        o.workloads = (Object.keys(WORKLOADS) as WorkloadName[]).filter((w) => list.includes(w));
        break;
      }
      case '--origin': {
        const v = need(i); i++;
        if (v !== 'node' && v !== 'nginx') die('--origin must be node or nginx');
        o.origin = v;
        break;
      }
      case '--workers': { const v = need(i); i++; o.workers = v === 'auto' ? 'auto' : posInt(v, a); break; }
      case '--no-access-log': o.accessLog = false; break;
      case '--label': o.label = need(i); i++; break;
      case '--no-write': o.write = false; break;
      case '--help': case '-h': process.stdout.write(USAGE); process.exit(0);
      // falls through (process.exit never returns)
      default: die(`unknown argument ${a}\n\n${USAGE}`);
    }
  }
  if (o.connections < o.threads) die('--connections must be at least --threads');
  return o;
}

function die(msg: string): never {
  process.stderr.write(`proxy-bench: ${msg}\n`);
  process.exit(2);
}

const log = (msg: string) => process.stderr.write(`[proxy-bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Origin
// ---------------------------------------------------------------------------------------------

interface Origin { readonly port: number; readonly kind: string; stop(): Promise<void> }

async function startOrigin(kind: 'node' | 'nginx', accessLog: boolean): Promise<Origin> {
  const port = await freePort();
  if (kind === 'nginx') {
    // The origin never logs: it is not under test, and every target pays for it equally.
    const inst = await startNginx('origin', port, originNginxConf(port, ORIGIN_PAGE, ORIGIN_POST_REPLY, false));
    void accessLog;
    return { port, kind: 'nginx (1 worker, fixed page from disk, `return 200` for POST)', stop: () => inst.stop() };
  }
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bench/origin.mjs'), '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(rl, 'line'), once(child, 'exit').then(() => ['exited'])])) as string[];
  if (!line?.startsWith('origin listening')) throw new Error(`bench/origin.mjs did not start (${line})`);
  await waitForPort(port, 5000);
  return {
    port,
    kind: 'node:http (bench/origin.mjs, 1 process)',
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

interface RunningTarget {
  readonly port: number;
  /** Root pid of the proxy process tree whose memory we report; null for `direct`. */
  readonly pid: number | null;
  readonly detail: string;
  /** What the target logged about the (benign) workloads: WAF rule matches would mean extra work or blocks. */
  matches?(): string;
  stop(): Promise<void>;
}

async function startTarget(name: TargetName, originPort: number, o: Options): Promise<RunningTarget> {
  if (name === 'direct') return { port: originPort, pid: null, detail: 'origin itself', stop: async () => {} };
  if (name === 'other-origin') {
    // The other origin, measured alone, so every run shows which origin is the faster one.
    const other = await startOrigin(o.origin === 'nginx' ? 'node' : 'nginx', false);
    return { port: other.port, pid: null, detail: `the other origin: ${other.kind}`, stop: () => other.stop() };
  }
  const port = await freePort();
  if (name === 'nginx' || name === 'nginx-modsec') {
    let rules: string | null = null;
    const inst: NginxInstance = await startNginx(name, port, (prefix) => {
      if (name === 'nginx-modsec') rules = writeModsecurityRules(prefix, 1);
      return proxyNginxConf({ port, originPort, accessLog: o.accessLog, modsecurityRules: rules })(prefix);
    });
    const status = await probe(port).catch((e: Error) => e.message);
    if (status !== 200) {
      await inst.stop();
      throw new Error(`GET / through ${name} answered ${status}`);
    }
    const detail = `nginx worker_processes auto${rules ? ', ModSecurity v3 SecRuleEngine On, CRS PL1' : ''}`;
    return {
      port,
      pid: inst.pid,
      detail,
      ...(rules ? { matches: () => `${(inst.errorLog().match(/ModSecurity: (Warning|Access denied)/g) ?? []).length} ModSecurity rule matches in its error log` } : {}),
      stop: () => inst.stop(),
    };
  }
  const crs = name === 'portcullis-crs' ? { paranoiaLevel: 1 as const, operationMode: 'active' as const } : null;
  const gw: GatewayInstance = await startGateway({ port, originPort, workers: o.workers, crs, accessLog: o.accessLog });
  return {
    port,
    pid: gw.pid,
    detail: `${gw.command}, workers ${o.workers}${crs ? ', CRS PL1 active' : ', operationMode disabled'}`,
    ...(crs ? { matches: () => `${gw.alertCount()} alerts in its alert file` } : {}),
    stop: () => gw.stop(),
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

interface Measurement {
  readonly target: TargetName;
  readonly workload: WorkloadName;
  /** 0-based round (--rounds). */
  readonly round: number;
  readonly result: WrkResult | null;
  readonly failure: string | null;
  readonly memory: { before: TreeMemory; after: TreeMemory; peakRssKb: number } | null;
}

async function measure(target: TargetName, running: RunningTarget, workload: WorkloadName, o: Options, round: number): Promise<Measurement> {
  const script = join(REPO_ROOT, 'bench/wrk', WORKLOADS[workload].script);
  const url = `http://127.0.0.1:${running.port}`;
  const base = { url, script, threads: o.threads, connections: o.connections };
  if (o.warmupS > 0) await runWrk({ ...base, durationS: o.warmupS });
  const before = running.pid ? treeMemory(running.pid) : null;
  const sampler = running.pid ? new MemorySampler(running.pid) : null;
  sampler?.start();
  const { result } = await runWrk({ ...base, durationS: o.durationS });
  const after = sampler?.stop() ?? null;
  const memory = before && after && sampler ? { before, after, peakRssKb: sampler.peakRssKb } : null;
  log(`${o.rounds > 1 ? `round ${round + 1}: ` : ''}${target} ${workload}: ${result.rps.toFixed(0)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, errors ${totalErrors(result)}`);
  return { target, workload, round, result, failure: null, memory };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const mib = (kb: number) => (kb / 1024).toFixed(0);
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * a / b of `value`, per round (both measured in the same round), as the median over rounds with the
 * range when there is more than one.
 */
function roundRatio(a: readonly Measurement[], b: readonly Measurement[], value: (m: WrkResult) => number, digits: number, unit: string): string {
  const ratios: number[] = [];
  for (const x of a) {
    const y = b.find((m) => m.round === x.round);
    if (!x.result || !y?.result || value(y.result) === 0) continue;
    ratios.push(value(x.result) / value(y.result));
  }
  if (ratios.length === 0) return 'n/a';
  const f = (v: number) => `${v.toFixed(digits)}${unit}`;
  if (ratios.length === 1) return f(ratios[0]!);
  return `${f(median(ratios))} (${f(Math.min(...ratios))}–${f(Math.max(...ratios))}, ${ratios.length} rounds)`;
}

const ratio = (a: readonly Measurement[], b: readonly Measurement[]) => roundRatio(a, b, (r) => r.rps, 2, '×');
const p99Ratio = (a: readonly Measurement[], b: readonly Measurement[]) => roundRatio(a, b, (r) => r.latencyMs.p99, 3, '');

/** The measurement of the median round by req/s (the lower middle one for an even count), or a failed one. */
function medianRound(list: readonly Measurement[]): Measurement | undefined {
  const ok = list.filter((m) => m.result !== null).sort((x, y) => x.result!.rps - y.result!.rps);
  if (ok.length === 0) return list[0];
  return ok[(ok.length - 1) >> 1];
}

export function renderReport(ms: readonly Measurement[], o: Options, ctx: { command: string; origin: string; started: Date; finished: Date; details: Map<TargetName, string>; loadBefore: string; loadAfter: string }): string {
  const m = describeMachine();
  const out: string[] = [];
  const fresh = o.workloads.every((w) => w.endsWith('-fresh'));
  out.push(fresh
    ? '## Proxy benchmark, fresh workloads: nothing repeats across requests (unique session cookie / CSRF token and search term)'
    : '## Proxy benchmark: Portcullis vs direct, nginx, nginx + ModSecurity');
  out.push('');
  if (o.label) out.push(`> **${o.label}**`, '');
  const load1 = Number(ctx.loadBefore.split(' ')[0]);
  if (load1 > BUSY_LOAD) {
    out.push(`> **Measured under load**: the 1-minute load average was ${load1.toFixed(2)} when the run started ` +
      `(other work shared the ${os.availableParallelism()} cores), so every target had less CPU than on a quiet machine; the ratios are the useful part.`, '');
  }
  out.push(`Measured ${ctx.started.toISOString().replace('T', ' ').slice(0, 16)} UTC (run took ${Math.round((ctx.finished.getTime() - ctx.started.getTime()) / 1000)} s) with:`);
  out.push('');
  out.push('```sh');
  out.push(ctx.command);
  out.push('```');
  out.push('');
  out.push(`- machine: ${m.cpus} cores (nproc), ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.kernel}`);
  out.push(`- load average (1, 5, 15 min) before the run: ${ctx.loadBefore}; after: ${ctx.loadAfter}`);
  out.push(`- ${m.node}, ${m.nginx}, ${m.wrk}`);
  out.push(`- wrk: ${o.threads} threads, ${o.connections} keep-alive connections, ${o.warmupS} s warm-up then ${o.durationS} s measured per row, loopback`);
  if (o.rounds > 1) {
    out.push(`- rounds: ${o.rounds}; every target kept running and measured once per round, the targets one after the other within a round; ` +
      'each row is that target\'s median round (by req/s), each ratio the median of the ratios of the same round, with their range');
  }
  out.push(`- origin: ${ctx.origin}`);
  out.push(`- access log: ${o.accessLog ? 'on, to a file, for Portcullis and nginx' : 'off for Portcullis and nginx'}`);
  for (const t of o.targets) out.push(`- ${t}: ${ctx.details.get(t) ?? 'not started'}`);
  out.push('');
  out.push('Memory is the proxy\'s resident set summed over its processes (master + workers) from /proc/PID/status: ' +
    'VmRSS before the measured run, after it, the highest sampled sum during it (every 250 ms), and the sum of the kernel\'s VmHWM. ' +
    'VmRSS counts the file pages each process maps (node\'s binary and libraries, ~45 MiB per node process, shared) once per process; ' +
    'RssAnon after the run is the processes\' own memory (heaps, buffers).');
  for (const w of o.workloads) {
    const all = ms.filter((x) => x.workload === w);
    const get = (t: TargetName) => all.filter((x) => x.target === t);
    const rows = o.targets.map((t) => medianRound(get(t))).filter((x): x is Measurement => x !== undefined);
    out.push('');
    out.push(`### ${WORKLOADS[w].title}`);
    out.push('');
    out.push('| target | req/s | p50 ms | p99 ms | errors | non-2xx | RSS before / after / peak MiB | VmHWM MiB | RssAnon MiB |');
    out.push('|---|---:|---:|---:|---:|---:|---|---:|---:|');
    for (const r of rows) {
      if (!r.result) {
        out.push(`| ${TARGET_LABEL[r.target]} | not measured: ${r.failure?.split('\n')[0]?.replace(/\|/g, '/') ?? ''} | | | | | | | |`);
        continue;
      }
      const e = r.result.errors;
      const errs = e.connect + e.read + e.write + e.timeout;
      const mem = r.memory ? `${mib(r.memory.before.rssKb)} / ${mib(r.memory.after.rssKb)} / ${mib(r.memory.peakRssKb)} (${r.memory.after.processes} proc)` : '-';
      out.push(`| ${TARGET_LABEL[r.target]} | ${r.result.rps.toFixed(0)} | ${fmtMs(r.result.latencyMs.p50)} | ${fmtMs(r.result.latencyMs.p99)} | ${errs} | ${r.result.non2xx} | ${mem} | ${r.memory ? mib(r.memory.after.hwmKb) : '-'} | ${r.memory ? mib(r.memory.after.anonKb) : '-'} |`);
    }
    out.push('');
    out.push('| ratio (req/s) | value |');
    out.push('|---|---:|');
    out.push(`| Portcullis (engine off) / direct | ${ratio(get('portcullis'), get('direct'))} |`);
    out.push(`| Portcullis (engine off) / nginx | ${ratio(get('portcullis'), get('nginx'))} |`);
    out.push(`| nginx / direct | ${ratio(get('nginx'), get('direct'))} |`);
    out.push(`| Portcullis CRS PL1 / Portcullis engine off | ${ratio(get('portcullis-crs'), get('portcullis'))} |`);
    out.push(`| Portcullis CRS PL1 / nginx + ModSecurity CRS PL1 (target ≥ 10×) | ${ratio(get('portcullis-crs'), get('nginx-modsec'))} |`);
    out.push(`| p99: Portcullis CRS PL1 / nginx + ModSecurity (target ≤ 0.1) | ${p99Ratio(get('portcullis-crs'), get('nginx-modsec'))} |`);
  }
  out.push('');
  return out.join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  const started = new Date();
  const loadBefore = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const command = `npm run bench -- proxy${argv.length ? ' ' + argv.map((a) => (/[^\w,./:=-]/.test(a) ? JSON.stringify(a) : a)).join(' ') : ''}`;
  if (os.loadavg()[0]! > BUSY_LOAD) log(`WARNING: 1-minute load average ${os.loadavg()[0]!.toFixed(2)}: the machine is busy, the report will say so`);
  log(`targets ${o.targets.join(', ')}; workloads ${o.workloads.join(', ')}; ${o.durationS} s each after ${o.warmupS} s warm-up`);
  const origin = await startOrigin(o.origin, o.accessLog);
  const results: Measurement[] = [];
  const details = new Map<TargetName, string>();
  let stopping = false;
  const cleanups: Array<() => Promise<void>> = [origin.stop];
  const onSignal = async () => {
    if (stopping) return;
    stopping = true;
    for (const c of cleanups.reverse()) await c().catch(() => {});
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const start = async (t: TargetName): Promise<RunningTarget | null> => {
    try {
      log(`starting ${t}`);
      const running = await startTarget(t, origin.port, o);
      details.set(t, running.detail);
      cleanups.push(running.stop);
      return running;
    } catch (e) {
      const why = (e as Error).message;
      log(`${t} not measured: ${why.split('\n')[0]}`);
      details.set(t, `not measured: ${why.split('\n')[0]}`);
      for (let r = 0; r < o.rounds; r++) for (const w of o.workloads) results.push({ target: t, workload: w, round: r, result: null, failure: why, memory: null });
      return null;
    }
  };
  const measureOne = async (t: TargetName, running: RunningTarget, w: WorkloadName, round: number) => {
    try {
      results.push(await measure(t, running, w, o, round));
    } catch (e) {
      log(`${t} ${w} failed: ${(e as Error).message}`);
      results.push({ target: t, workload: w, round, result: null, failure: (e as Error).message, memory: null });
    }
  };
  const stop = async (t: TargetName, running: RunningTarget) => {
    if (running.matches) {
      const m = running.matches();
      log(`${t}: ${m}`);
      details.set(t, `${running.detail}; benign workloads caused ${m}`);
    }
    const i = cleanups.indexOf(running.stop);
    if (i >= 0) cleanups.splice(i, 1);
    await running.stop();
  };
  try {
    if (o.rounds === 1) {
      // One target at a time: started, measured on every workload, stopped.
      for (const t of o.targets) {
        const running = await start(t);
        if (running === null) continue;
        try {
          for (const w of o.workloads) await measureOne(t, running, w, 0);
        } finally {
          await stop(t, running);
        }
      }
    } else {
      // Every target running at once (idle while the others are measured), alternated round by round,
      // so that a change in the machine's speed during the run reaches every target.
      const started = new Map<TargetName, RunningTarget>();
      try {
        for (const t of o.targets) {
          const running = await start(t);
          if (running !== null) started.set(t, running);
        }
        // Per round and workload, the targets one after the other: the ratios compare neighbours in time.
        for (let r = 0; r < o.rounds; r++) {
          for (const w of o.workloads) for (const [t, running] of started) await measureOne(t, running, w, r);
        }
      } finally {
        for (const [t, running] of started) await stop(t, running);
      }
    }
  } finally {
    await origin.stop();
  }
  const report = renderReport(results, o, {
    command, origin: origin.kind, started, finished: new Date(), details,
    loadBefore, loadAfter: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  });
  process.stdout.write(report + '\n');
  if (o.write) {
    const file = join(REPO_ROOT, 'docs/BENCHMARKS.md');
    const section = o.workloads.every((w) => w.endsWith('-fresh')) ? 'proxy-bench-fresh' : 'proxy-bench';
    writeSection(file, section, report);
    log(`wrote the ${section} section of ${file}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`proxy-bench: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
