/**
 * The sniff / NFQUEUE lab: four network namespaces with a unique prefix, always deleted.
 *
 *   client 10.71.0.1 ──┐                      ┌── server 10.71.0.2 (lab-origin.ts)
 *          fd71::1     │                      │         fd71::2
 *                      └── [ switch: br0 ] ───┘
 *                           │ wc mirrored (tc u32 + mirred, both directions; no matchall in this kernel) → wm ── mon0 (gw: sniffer)
 *                           └── wg ── inj0 10.71.0.3 (gw: injects the resets)
 */
import { spawn, spawnSync } from 'node:child_process';
import { LabProcess, repoRoot, uniquePrefix } from './lab-harness.js';

export const CLIENT_IP = '10.71.0.1';
export const SERVER_IP = '10.71.0.2';
export const CLIENT_IP6 = 'fd71::1';
export const SERVER_IP6 = 'fd71::2';
export type Host = 'client' | 'server' | 'switch' | 'gw';
const NS_SUFFIX: Readonly<Record<Host, string>> = { client: 'c', server: 's', switch: 'w', gw: 'g' };

export class SniffLab {
  readonly prefix: string;
  private readonly procs = new Set<LabProcess>();

  constructor(tag: string) {
    this.prefix = uniquePrefix(tag);
  }

  ns(host: Host): string {
    return `${this.prefix}${NS_SUFFIX[host]}`;
  }

  up(): void {
    const [c, s, w, g] = (['client', 'server', 'switch', 'gw'] as const).map((h) => this.ns(h));
    const script = `
set -e
for n in ${c} ${s} ${w} ${g}; do ip netns add $n; ip -n $n link set lo up; done
ip link add c0 netns ${c} type veth peer name wc netns ${w}
ip link add s0 netns ${s} type veth peer name ws netns ${w}
ip link add inj0 netns ${g} type veth peer name wg netns ${w}
ip link add mon0 netns ${g} type veth peer name wm netns ${w}
ip -n ${w} link add br0 type bridge
for p in wc ws wg; do ip -n ${w} link set $p master br0 up; done
ip -n ${w} link set br0 up
ip -n ${w} link set wm up
ip netns exec ${w} tc qdisc add dev wc clsact
ip netns exec ${w} tc filter add dev wc ingress protocol all u32 match u32 0 0 action mirred egress mirror dev wm
ip netns exec ${w} tc filter add dev wc egress protocol all u32 match u32 0 0 action mirred egress mirror dev wm
ip -n ${c} addr add ${CLIENT_IP}/24 dev c0; ip -n ${c} link set c0 up
ip -n ${s} addr add ${SERVER_IP}/24 dev s0; ip -n ${s} link set s0 up
ip -n ${g} addr add 10.71.0.3/24 dev inj0; ip -n ${g} link set inj0 up
ip -n ${g} link set mon0 up
ip -n ${c} addr add ${CLIENT_IP6}/64 dev c0 nodad
ip -n ${s} addr add ${SERVER_IP6}/64 dev s0 nodad
ip -n ${g} addr add fd71::3/64 dev inj0 nodad
`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) {
      this.down();
      throw new Error(`sniff lab setup failed: ${r.stderr}`);
    }
  }

  down(): void {
    for (const h of ['client', 'server', 'switch', 'gw'] as const) spawnSync('ip', ['netns', 'del', this.ns(h)], { encoding: 'utf8' });
  }

  exec(host: Host, argv: readonly string[], timeoutMs = 15_000) {
    return spawnSync('ip', ['netns', 'exec', this.ns(host), ...argv], { encoding: 'utf8', timeout: timeoutMs, cwd: repoRoot });
  }

  /** Starts a process in a namespace; resolves when a stdout line satisfies `ready`. */
  start(host: Host, argv: readonly string[], ready: (line: string) => boolean, timeoutMs = 60_000, stdinPipe = false): Promise<LabProcess> {
    const child = spawn('ip', ['netns', 'exec', this.ns(host), ...argv], {
      cwd: repoRoot, env: process.env, stdio: [stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const proc = new LabProcess(child);
    this.procs.add(proc);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} not ready:\n${proc.output()}`)), timeoutMs);
      proc.onLine((line) => {
        if (ready(line)) {
          clearTimeout(timer);
          resolve(proc);
        }
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`${argv.join(' ')} exited (${code ?? sig}) before ready:\n${proc.output()}`));
      });
    });
  }

  node(host: Host, script: string, args: readonly string[], ready: (line: string) => boolean, stdinPipe = false): Promise<LabProcess> {
    return this.start(host, [process.execPath, '--import', 'tsx', script, ...args], ready, 60_000, stdinPipe);
  }

  /** tcpdump in a namespace, writing `file`; resolves once it listens. Stop it with SIGINT. */
  tcpdump(host: Host, iface: string, file: string, filter: string): Promise<LabProcess> {
    return this.startUntilOutput(host, ['tcpdump', '-i', iface, '-U', '-n', '-w', file, filter], 'listening on');
  }

  /** Starts argv in a namespace; resolves once `text` appears on its stdout or stderr. */
  async startUntilOutput(host: Host, argv: readonly string[], text: string, timeoutMs = 60_000): Promise<LabProcess> {
    const child = spawn('ip', ['netns', 'exec', this.ns(host), ...argv], { cwd: repoRoot, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new LabProcess(child);
    this.procs.add(proc);
    for (let waited = 0; waited < timeoutMs; waited += 50) {
      if (proc.output().includes(text)) return proc;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${argv.join(' ')} did not print ${JSON.stringify(text)}: ${proc.output()}`);
  }

  /** curl from the client: exit code and body. */
  curl(url: string, maxSeconds = 3, extra: readonly string[] = []): { rc: number; body: string } {
    const r = this.exec('client', ['curl', '-s', '-m', String(maxSeconds), ...extra, url], (maxSeconds + 5) * 1000);
    return { rc: r.status ?? -1, body: r.stdout };
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs) await p.stop('SIGKILL');
    this.procs.clear();
  }
}
