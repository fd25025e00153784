/** What a benchmark result needs to be read against: the machine, the tools, the load. */
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function firstLine(cmd: string, args: string[]): string {
  try {
    // nginx -v prints to stderr; merge both.
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0]!.trim();
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    const s = `${err.stdout ?? ''}${err.stderr ?? ''}`.split('\n')[0]!.trim();
    return s || 'unavailable';
  }
}

function stderrFirstLine(cmd: string, args: string[]): string {
  try {
    const r = execFileSync('sh', ['-c', `${cmd} ${args.join(' ')} 2>&1`], { encoding: 'utf8' });
    return r.split('\n')[0]!.trim();
  } catch {
    return 'unavailable';
  }
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: string;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly wrk: string;
  readonly loadAvg: string;
}

export function describeMachine(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch { /* not Linux: keep os.cpus() */ }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: stderrFirstLine('nginx', ['-v']),
    wrk: firstLine('wrk', ['--version']).replace(/\s+Copyright.*$/, ''),
    loadAvg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
