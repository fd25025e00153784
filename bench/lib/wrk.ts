/**
 * Runs wrk and reads the JSON line that bench/wrk/report.lua's done() hook prints (prefixed
 * `WRK_JSON `), so no number is scraped from wrk's human-readable summary.
 */
import { spawn } from 'node:child_process';

export interface WrkRun {
  readonly url: string;
  readonly script: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationS: number;
  /** wrk's per-request timeout (a request slower than this counts as a timeout error). */
  readonly timeoutS?: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly bytes: number;
  readonly errors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
  /** Responses whose status was not 2xx/3xx (wrk's `errors.status`). */
  readonly non2xx: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number; readonly mean: number };
}

export class WrkOutputError extends Error {
  readonly code = 'BENCH_WRK_OUTPUT';
}

const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new WrkOutputError(`wrk JSON: ${what} is not a number`);
  return v;
};

/** Parses wrk's stdout; throws WrkOutputError when the done() line is missing or malformed. */
export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new WrkOutputError('wrk printed no WRK_JSON line (did the Lua script load bench/wrk/report.lua?)');
  let j: Record<string, any>;
  try {
    j = JSON.parse(line.slice('WRK_JSON '.length));
  } catch (e) {
    throw new WrkOutputError(`wrk JSON line does not parse: ${(e as Error).message}`);
  }
  const requests = num(j.requests, 'requests');
  const durationS = num(j.duration_us, 'duration_us') / 1e6;
  const lat = j.latency_us ?? {};
  const ms = (k: string) => num(lat[k], `latency_us.${k}`) / 1000;
  return {
    requests,
    durationS,
    rps: durationS > 0 ? requests / durationS : 0,
    bytes: num(j.bytes, 'bytes'),
    errors: {
      connect: num(j.errors?.connect, 'errors.connect'),
      read: num(j.errors?.read, 'errors.read'),
      write: num(j.errors?.write, 'errors.write'),
      timeout: num(j.errors?.timeout, 'errors.timeout'),
    },
    non2xx: num(j.non2xx, 'non2xx'),
    latencyMs: { p50: ms('p50'), p90: ms('p90'), p99: ms('p99'), p999: ms('p999'), max: ms('max'), mean: ms('mean') },
  };
}

export function wrkArgs(run: WrkRun): string[] {
  return [
    '-t', String(run.threads),
    '-c', String(run.connections),
    '-d', `${run.durationS}s`,
    '--timeout', `${run.timeoutS ?? 10}s`,
    '--latency',
    '-s', run.script,
    run.url,
  ];
}

export function runWrk(run: WrkRun): Promise<{ result: WrkResult; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', wrkArgs(run), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(new Error(`cannot run wrk (install it with bench/setup.sh): ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}: ${err.trim() || out.trim()}`));
      try {
        resolve({ result: parseWrkOutput(out), stdout: out });
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Sum of every kind of failure wrk counts (socket errors, timeouts, non-2xx/3xx statuses). */
export function totalErrors(r: WrkResult): number {
  return r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout + r.non2xx;
}
