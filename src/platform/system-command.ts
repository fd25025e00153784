/**
 * Runs a system tool (nft, ip, sysctl) without a shell, optionally inside a network namespace
 * (`ip netns exec NS …`, which is how the lab and the tests drive a gateway namespace).
 */
import { spawn } from 'node:child_process';

export interface CommandOptions {
  /** Run inside this network namespace; absent = the current one. */
  readonly netns?: string;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
  /** Kill the command after this many milliseconds; default 15000. */
  readonly timeoutMs?: number;
}

export interface CommandResult {
  readonly argv: readonly string[];
  /** Exit status; null when it was killed (timeout) or could not start. */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCommand(argv: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : [...argv];
  return new Promise((resolve) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 15_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => resolve({ argv: full, status: null, stdout, stderr: stderr + err.message }));
    child.on('close', (status) => resolve({ argv: full, status, stdout, stderr }));
    child.stdin.on('error', () => {
      /* the command exited before reading its input: its status tells what happened */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** One line for error messages: the command and what it printed on stderr. */
export function describeFailure(r: CommandResult): string {
  const err = r.stderr.trim().split('\n').slice(0, 5).join(' | ');
  return `\`${r.argv.join(' ')}\` exited with ${r.status ?? 'a signal'}${err ? `: ${err}` : ''}`;
}
