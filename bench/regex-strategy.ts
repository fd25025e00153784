/**
 * Regex strategy benchmark: which engine runs the CRS @rx patterns, how fast, and whether request data
 * can make it backtrack catastrophically.
 *
 *   node --import tsx bench/regex-strategy.ts [--quick]
 *
 * A full run takes 10–15 minutes on 2 cores, most of it spent waiting for the V8 modes to hit their
 * 180 s limit on pathological input (that is the finding); --quick uses fewer values and a 60 s limit.
 * One mode alone: --worker=<mode> prints its raw JSON lines.
 *
 * Engines (each measured in its own child process, because V8 flags are process-wide):
 *   re2          node-re2 on the exact RE2 translation (patterns RE2 can express)
 *   v8           V8 RegExp (backtracking) on the exact V8 translation
 *   v8-fallback  the same with --enable-experimental-regexp-engine-on-excessive-backtracks
 *                --regexp-backtracks-before-fallback=50000
 *   v8-linear    V8's linear engine (`l` flag, --enable-experimental-regexp-engine) where it accepts the pattern
 *   bounded      the step-bounded backtracking matcher (src/policy/regex/bounded-matcher.ts)
 *   strategy     compileRuleRegex(): RE2 when exact, bounded otherwise (what the engine uses)
 *   libinjection @detectSQLi/@detectXSS: the TypeScript port against libddwaf's libinjection (per call)
 * Measures: (a) patterns accepted out of every @rx in Debian CRS 3.3.4, (b) throughput on benign and
 * attack values, (c) the slowest pattern × pathological input (16 KB and 64 KB subjects).
 * Times are CPU time of the measuring process (see timeIt); the child's wall-clock limit is 180 s.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { extractRuleOperators, ruleFiles } from '../test/policy/regex/crs-rules.js';
import { crsCorpus } from '../test/policy/regex/crs-corpus.js';
import { compileRuleRegex, translatePcre, loadRe2 } from '../src/policy/regex/index.js';
import { detectSqli } from '../src/policy/operators/libinjection/sqli.js';
import { detectXss } from '../src/policy/operators/libinjection/xss.js';
import { ddwafAvailable, ddwafSqliFingerprint, ddwafIsXss } from '../test/policy/operators/ddwaf-reference.js';

type Mode = 're2' | 'v8' | 'v8-fallback' | 'v8-linear' | 'bounded' | 'strategy' | 'libinjection';
const MODES: Mode[] = ['re2', 'v8', 'v8-fallback', 'v8-linear', 'bounded', 'strategy', 'libinjection'];
const FLAGS: Record<Mode, string[]> = {
  're2': [], 'v8': [], 'bounded': [], 'strategy': [], 'libinjection': [],
  'v8-fallback': ['--enable-experimental-regexp-engine-on-excessive-backtracks', '--regexp-backtracks-before-fallback=50000'],
  'v8-linear': ['--enable-experimental-regexp-engine'],
};
const quick = process.argv.includes('--quick');

interface Tester { id: string; test(s: string): boolean }

function rulePatterns(): Array<{ id: string; pcre: string }> {
  return extractRuleOperators(ruleFiles()).filter((o) => o.name === 'rx' && !o.param.includes('%{')).map((o) => ({ id: o.id, pcre: o.param }));
}

function compileAll(mode: Mode, patterns: Array<{ id: string; pcre: string }>): { testers: Tester[]; rejected: string[] } {
  const testers: Tester[] = [];
  const rejected: string[] = [];
  const RE2 = loadRe2();
  for (const { id, pcre } of patterns) {
    try {
      let t: (s: string) => boolean;
      if (mode === 'strategy') { const re = compileRuleRegex(pcre); t = (s) => re.test(s); }
      else if (mode === 'bounded') { const re = compileRuleRegex(pcre, { engine: 'bounded' }); t = (s) => re.test(s); }
      else if (mode === 're2') {
        const tr = translatePcre(pcre);
        if (!('source' in tr.re2) || RE2 === null) throw new Error('no exact RE2 translation');
        const re = new RE2(tr.re2.source); t = (s) => re.test(s);
      } else {
        const tr = translatePcre(pcre);
        if (!('source' in tr.v8)) throw new Error('no exact V8 translation');
        const re = new RegExp(tr.v8.source, mode === 'v8-linear' ? 'l' : ''); t = (s) => re.test(s);
      }
      testers.push({ id, test: t });
    } catch {
      rejected.push(id);
    }
  }
  return { testers, rejected };
}

function benignValues(): string[] {
  const v = [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
    'gzip, deflate, br', 'en-US,en;q=0.9', 'keep-alive', 'https://shop.example.com/catalog/shoes?page=2',
    'session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; _ga=GA1.2.1234567890.1700000000',
    '/catalog/shoes/running/index.html', 'page=2&sort=price&order=asc', 'john.doe@example.com',
    'Jean-Pierre O Connor', 'I would like to return my order #12345 because the size is wrong.',
    '{"items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"coupon":null}', '2024-01-31', '+1 (555) 010-9999',
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.',
  ];
  return v.concat(v.map((x) => x.toLowerCase()));
}

function pathologicalInputs(size: number): Array<{ name: string; value: string }> {
  const rep = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  return [
    { name: 'a*', value: rep('a') }, { name: 'space*', value: rep(' ') }, { name: "quote*", value: rep("'") },
    { name: 'comma*', value: rep(',') }, { name: '<*', value: rep('<') }, { name: 'digits', value: rep('1') },
    { name: 'a=a ', value: rep('a=a ') }, { name: '<style>*', value: '<style>' + rep('>') },
    { name: 'select(', value: rep('select(') }, { name: 'sql-mix', value: rep("'a or 1=1 ") },
    { name: '&#x', value: rep('&#x0') }, { name: '/*', value: rep('/*') }, { name: 'x=1;', value: rep('x=1;') },
  ];
}

/**
 * CPU time (user + system) of `f` in ms. The reference machine is shared, and wall time there mostly
 * measures the run queue; CPU time is what the engine costs.
 */
function timeIt(f: () => void): number {
  const t = process.cpuUsage();
  f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

function libinjectionWorker(): void {
  const report = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  const sets: Array<[string, string[]]> = [['benign', benignValues()], ['attack', crsCorpus(quick ? 300 : 1200).filter((v) => v.length < 4096)]];
  const impls: Array<[string, (s: string) => unknown]> = [['port sqli', detectSqli], ['port xss', detectXss]];
  if (ddwafAvailable()) impls.push(['libddwaf sqli', ddwafSqliFingerprint], ['libddwaf xss', ddwafIsXss]);
  for (const [name, f] of impls) {
    for (const [set, values] of sets) {
      for (let w = 0; w < 200; w++) for (const v of values.slice(0, 100)) f(v); // warm-up: let the JIT settle
      const rounds = set === 'benign' ? (quick ? 20 : 100) : 1;
      const ms = timeIt(() => { for (let r = 0; r < rounds; r++) for (const v of values) f(v); });
      report({ kind: 'perCall', name, set, nsPerCall: (ms * 1e6) / (values.length * rounds) });
    }
  }
  const big = 'a '.repeat(512 * 1024);
  report({ kind: 'perCall', name: 'port sqli', set: '1 MB', nsPerCall: timeIt(() => detectSqli(big)) * 1e6 });
  report({ kind: 'perCall', name: 'port xss', set: '1 MB', nsPerCall: timeIt(() => detectXss(big)) * 1e6 });
}

function worker(mode: Mode): void {
  if (mode === 'libinjection') { libinjectionWorker(); return; }
  const patterns = rulePatterns();
  const { testers, rejected } = compileAll(mode, patterns);
  const report = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  report({ kind: 'compile', total: patterns.length, accepted: testers.length, rejected });
  const benign = benignValues();
  const attacks = crsCorpus(quick ? 300 : 1200);
  for (const [name, values] of [['benign', benign], ['attack', attacks]] as const) {
    for (const t of testers) for (const v of values.slice(0, 20)) t.test(v); // warm-up
    const rounds = name === 'benign' ? (quick ? 5 : 20) : 1;
    let calls = 0;
    const ms = timeIt(() => {
      for (let r = 0; r < rounds; r++) for (const v of values) for (const t of testers) { t.test(v); calls++; }
    });
    report({ kind: 'throughput', set: name, values: values.length * rounds, calls, ms, nsPerCall: (ms * 1e6) / calls, usPerValueAllPatterns: (ms * 1e3) / (values.length * rounds) });
  }
  for (const size of quick ? [16384] : [16384, 65536]) {
    let worst = { ms: 0, id: '', input: '' };
    let total = 0;
    for (const input of pathologicalInputs(size)) {
      for (const t of testers) {
        const ms = timeIt(() => t.test(input.value));
        total += ms;
        if (ms > worst.ms) worst = { ms, id: t.id, input: input.name };
        // Progress lines let the parent say which pattern hung if the child is killed.
        if (ms > 1000) report({ kind: 'slow', size, id: t.id, input: input.name, ms });
      }
    }
    report({ kind: 'pathological', size, worstMs: worst.ms, worstId: worst.id, worstInput: worst.input, totalMs: total });
  }
}

function main(): void {
  const self = fileURLToPath(import.meta.url);
  const timeoutMs = quick ? 60_000 : 180_000;
  console.log(`regex strategy benchmark — node ${process.version}, re2 ${loadRe2() ? 'available' : 'MISSING'}${quick ? ' (quick)' : ''}\n`);
  for (const mode of MODES) {
    const r = spawnSync(process.execPath, [...FLAGS[mode], '--import', 'tsx', self, `--worker=${mode}`, ...(quick ? ['--quick'] : [])], { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1 << 26 });
    const lines = (r.stdout ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    console.log(`== ${mode} ${FLAGS[mode].join(' ')}`);
    for (const l of lines) {
      if (l.kind === 'compile') console.log(`  compile: ${l.accepted}/${l.total} accepted${(l.rejected as string[]).length ? ` (rejected rule ids: ${(l.rejected as string[]).join(',')})` : ''}`);
      else if (l.kind === 'throughput') console.log(`  ${String(l.set).padEnd(7)} ${(l.nsPerCall as number).toFixed(0).padStart(6)} ns/test, ${(l.usPerValueAllPatterns as number).toFixed(1)} µs per value through all accepted patterns (${l.values} values)`);
      else if (l.kind === 'pathological') console.log(`  pathological ${l.size} B: worst ${(l.worstMs as number).toFixed(1)} ms (rule ${l.worstId}, input "${l.worstInput}"), all patterns × inputs ${(l.totalMs as number).toFixed(0)} ms`);
      else if (l.kind === 'slow') console.log(`  slow: ${l.size} B rule ${l.id} input "${l.input}" ${(l.ms as number).toFixed(0)} ms`);
      else if (l.kind === 'perCall') console.log(`  ${String(l.name).padEnd(14)} ${String(l.set).padEnd(7)} ${((l.nsPerCall as number) / 1000).toFixed(2).padStart(8)} µs/call`);
    }
    if (r.error || r.status !== 0) console.log(`  ${r.signal === 'SIGTERM' || (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' ? `KILLED after ${timeoutMs / 1000} s (time limit: see the slow lines above)` : `exit ${r.status}: ${(r.stderr ?? '').slice(0, 500)}`}`);
    console.log('');
  }
}

const w = process.argv.find((a) => a.startsWith('--worker='));
if (w) worker(w.slice('--worker='.length) as Mode);
else main();
