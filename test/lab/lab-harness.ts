/**
 * Drives the netns lab (scripts/lab/up.sh, down.sh) from node:test. Root is required; when the lab
 * cannot run, tests FAIL under CI=true and are skipped with a loud reason elsewhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const labDir = join(repoRoot, 'scripts', 'lab');

/** Why the lab cannot run here, or null when it can. */
export function labUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'the netns lab needs root (ip netns, nft, veth)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return `\`ip netns list\` failed: ${r.stderr || r.error?.message}`;
  return null;
}

/**
 * `skip` option for a lab suite: false when the lab can run; a loud reason outside CI; under CI=true
 * also false, so `assertLabAvailable()` in `before` fails the suite instead of skipping it.
 */
export function labSkip(): string | false {
  const reason = labUnavailableReason();
  if (reason === null || process.env.CI === 'true') return false;
  console.warn(`\n*** LAB TESTS SKIPPED: ${reason}. They run in CI (as root), where this would be a failure. ***\n`);
  return `SKIPPED: ${reason}`;
}

export function assertLabAvailable(): void {
  const reason = labUnavailableReason();
  if (reason !== null) throw new Error(`lab unavailable under CI=true: ${reason}`);
}

/** A prefix unique to this process (namespaces, veths, run dir), ≤ 10 characters. */
export function uniquePrefix(tag: string): string {
  return `${tag}${process.pid.toString(36)}`.slice(0, 10);
}

export interface ExecResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class Lab {
  readonly prefix: string;
  readonly runDir: string;
  private readonly children = new Set<ChildProcess>();

  constructor(prefix: string) {
    this.prefix = prefix;
    this.runDir = `/tmp/portcullis-lab-${prefix}`;
  }

  ns(host: 'client' | 'router' | 'gw' | 'server'): string {
    return `${this.prefix}-${host}`;
  }

  private env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...process.env, LAB_PREFIX: this.prefix, ...extra };
  }

  up(extraEnv: Record<string, string> = {}): void {
    const r = spawnSync(join(labDir, 'up.sh'), { env: this.env(extraEnv), encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`up.sh failed (${r.status}): ${r.stderr}${r.stdout}`);
  }

  down(): ExecResult {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.children.clear();
    const r = spawnSync(join(labDir, 'down.sh'), { env: this.env(), encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs argv inside a namespace of this lab (synchronously: these are short commands). */
  exec(host: 'client' | 'router' | 'gw' | 'server', argv: readonly string[], timeoutMs = 10_000): ExecResult {
    const r = spawnSync('ip', ['netns', 'exec', this.ns(host), ...argv], { encoding: 'utf8', timeout: timeoutMs, env: this.env() });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** curl from the client; returns the parsed JSON body, or null when the request failed. */
  curlJson<T = Record<string, unknown>>(url: string, maxSeconds = 2, extra: readonly string[] = []): T | null {
    const r = this.exec('client', ['curl', '-sk', '-m', String(maxSeconds), ...extra, url], (maxSeconds + 3) * 1000);
    if (r.status !== 0) return null;
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      return null;
    }
  }

  icmpEcho(address: string): boolean {
    return this.exec('client', [join(labDir, 'icmp-echo.py'), address, '1']).status === 0;
  }

  /**
   * Starts argv inside a namespace; resolves once it prints `readyLine` on stdout. The ChildProcess is
   * the command itself (ip netns exec execs it), so kill() signals exactly that process.
   */
  start(host: 'client' | 'router' | 'gw' | 'server', argv: readonly string[], env: Record<string, string> = {}, readyLine = 'ready'): Promise<LabProcess> {
    const child = spawn('ip', ['netns', 'exec', this.ns(host), ...argv], { cwd: repoRoot, env: this.env(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    const proc = new LabProcess(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} not ready after 15 s: ${proc.output()}`)), 15_000);
      proc.onLine((line) => {
        if (line === readyLine) {
          clearTimeout(timer);
          resolve(proc);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${argv.join(' ')} exited (${code ?? signal}) before ready: ${proc.output()}`));
      });
    });
  }
}

export class LabProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private stderr = '';
  private readonly listeners: Array<(line: string) => void> = [];

  constructor(child: ChildProcess) {
    this.child = child;
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        for (const l of this.listeners) l(line);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  onLine(fn: (line: string) => void): void {
    this.listeners.push(fn);
  }

  output(): string {
    return `${this.lines.join('\n')}\n${this.stderr}`;
  }

  /** Sends `signal` and resolves when the process has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill(signal);
    await exited;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
