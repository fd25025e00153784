/**
 * The proxy benchmark's report with --rounds (bench/proxy-bench.ts): rows are each target's median
 * round, ratios the median of same-round ratios with their range; and a bad --rounds is refused with a
 * clear error before anything starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { renderReport } from '../../bench/proxy-bench.js';
import type { WrkResult } from '../../bench/lib/wrk.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function wrk(rps: number, p99: number): WrkResult {
  return {
    requests: rps * 10, durationS: 10, rps, bytes: 0, errors: { connect: 0, read: 0, write: 0, timeout: 0 }, non2xx: 0,
    latencyMs: { p50: p99 / 2, p90: p99, p99, p999: p99, max: p99, mean: p99 / 2 },
  };
}

const options = (rounds: number) => ({
  durationS: 10, rounds, warmupS: 3, connections: 64, threads: 2, targets: ['portcullis-crs', 'nginx-modsec'] as ('portcullis-crs' | 'nginx-modsec')[],
  workloads: ['get'] as 'get'[], origin: 'nginx' as const, workers: 'auto' as const, accessLog: true, write: false, label: null,
});
const ctx = { command: 'npm run bench -- proxy', origin: 'nginx', started: new Date(0), finished: new Date(1000), details: new Map(), loadBefore: '0.10 0.10 0.10', loadAfter: '0.10 0.10 0.10' };
const m = (target: 'portcullis-crs' | 'nginx-modsec', round: number, rps: number, p99: number) =>
  ({ target, workload: 'get' as const, round, result: wrk(rps, p99), failure: null, memory: null });

test('--rounds: rows are the median round, ratios the median of same-round ratios with their range', () => {
  const report = renderReport([
    m('portcullis-crs', 0, 5000, 20), m('nginx-modsec', 0, 500, 400), // 10×, p99 0.05
    m('portcullis-crs', 1, 3000, 30), m('nginx-modsec', 1, 250, 300), // 12×, p99 0.1
    m('portcullis-crs', 2, 4000, 40), m('nginx-modsec', 2, 500, 800), // 8×, p99 0.05
  ], options(3) as never, ctx);
  assert.match(report, /\| Portcullis alias, CRS PL1 active \| 4000 \|/, 'the median round by req/s');
  assert.match(report, /\| nginx \+ ModSecurity v3, CRS PL1 \| 500 \|/);
  // Same-round ratios 10, 12, 8 → median 10 (the medians of the rows would give 4000 / 500 = 8).
  assert.match(report, /\(target ≥ 10×\) \| 10\.00× \(8\.00×–12\.00×, 3 rounds\) \|/);
  assert.match(report, /\(target ≤ 0\.1\) \| 0\.050 \(0\.050–0\.100, 3 rounds\) \|/);
  assert.match(report, /- rounds: 3;/);
});

test('one round: the report is as before, one figure per ratio', () => {
  const report = renderReport([m('portcullis-crs', 0, 5000, 20), m('nginx-modsec', 0, 500, 400)], options(1) as never, ctx);
  assert.match(report, /\(target ≥ 10×\) \| 10\.00× \|/);
  assert.doesNotMatch(report, /rounds/);
});

test('a bad --rounds is refused before anything starts', () => {
  for (const bad of ['0', '-1', '1.5', 'x']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/proxy-bench.ts', '--rounds', bad, '--no-write'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, `--rounds ${bad}: ${r.stderr}`); // a usage error, as every bad option
    assert.match(r.stderr, new RegExp(`--rounds must be a positive integer \\(got ${bad.replace('.', '\\.')}\\)`));
  }
});
