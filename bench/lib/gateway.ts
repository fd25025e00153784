/**
 * Starting the Portcullis gateway for a benchmark: a generated alias-mode configuration on loopback
 * in front of the origin, the built CLI (`node dist/src/cli/main.js run -c FILE`, or the TypeScript
 * sources through tsx when there is no build), readiness checked by a real proxied request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { waitForPort } from './ports.js';
import { processTree } from './proc-memory.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface GatewayBenchConfig {
  readonly port: number;
  readonly originPort: number;
  readonly workers: number | 'auto';
  /** null = no CRS and operation mode `disabled` (the engine is not run at all). */
  readonly crs: { readonly paranoiaLevel: 1 | 2 | 3 | 4; readonly operationMode: 'active' | 'simulation' } | null;
  readonly accessLog: boolean;
  /** Where the gateway writes its log and control socket. */
  readonly dir: string;
}

/** The configuration as a plain object (YAML keys = property names of src/config/types.ts). */
export function gatewayBenchConfig(c: GatewayBenchConfig): Record<string, unknown> {
  return {
    gateway: {
      mode: 'alias',
      workers: c.workers,
      skipAddressCheck: true,
      log: { level: 'info', file: join(c.dir, 'gateway.log'), accessLog: c.accessLog },
      alerts: { file: join(c.dir, 'alerts.jsonl') },
      control: { socket: join(c.dir, 'control.sock') },
      aliases: [{ name: 'bench', device: 'lo', address: '127.0.0.1/8' }],
    },
    sites: [
      {
        name: 'Benchmark',
        serverGroups: [
          {
            name: 'bench',
            operationMode: c.crs ? c.crs.operationMode : 'disabled',
            servers: ['127.0.0.1'],
            ...(c.crs ? { policies: { crs: { paranoiaLevel: c.crs.paranoiaLevel } } } : {}),
            services: [
              {
                name: 'web',
                ports: [c.port],
                reverseProxy: [
                  {
                    alias: 'bench',
                    port: c.port,
                    rules: [{ priority: 10, host: '*', urlPrefix: '/', serverIp: '127.0.0.1', serverPort: c.originPort }],
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

/**
 * The command that runs the gateway CLI: PORTCULLIS_CMD (split on spaces) when set, else the build
 * in dist/ when present, else the sources through tsx.
 */
export function gatewayCommand(root = REPO_ROOT): { cmd: string; args: string[]; label: string } {
  const override = process.env.PORTCULLIS_CMD?.trim();
  if (override) {
    const [cmd, ...args] = override.split(/\s+/);
    return { cmd: cmd!, args, label: override };
  }
  const built = join(root, 'dist/src/cli/main.js');
  if (existsSync(built)) {
    const stale = newestMtime(join(root, 'src')) > statSync(built).mtimeMs;
    return { cmd: process.execPath, args: [built], label: `node dist/src/cli/main.js${stale ? ' (WARNING: older than src/, run npm run build)' : ''}` };
  }
  const src = join(root, 'src/cli/main.ts');
  if (existsSync(src)) return { cmd: process.execPath, args: ['--import', 'tsx', src], label: 'node --import tsx src/cli/main.ts' };
  throw new Error('no gateway CLI: neither dist/src/cli/main.js (run `npm run build`) nor src/cli/main.ts exists');
}

/** Newest modification time of a .ts file under `dir` (a build older than this is stale). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export interface GatewayInstance {
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  readonly configFile: string;
  readonly command: string;
  output(): string;
  /** Lines in the gateway's alert file so far. */
  alertCount(): number;
  stop(): Promise<void>;
}

/** GET / through a proxy; resolves with the status (rejects on a socket error). */
export function probe(port: number, host = 'shop.example.com'): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host, 'user-agent': 'portcullis-bench-probe' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode ?? 0));
    });
    req.setTimeout(5000, () => req.destroy(new Error('probe timed out')));
    req.on('error', reject);
    req.end();
  });
}

export async function startGateway(c: Omit<GatewayBenchConfig, 'dir'>, startTimeoutMs = 60_000): Promise<GatewayInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-gw-'));
  const configFile = join(dir, 'portcullis.yaml');
  writeFileSync(configFile, stringify(gatewayBenchConfig({ ...c, dir })));
  const { cmd, args, label } = gatewayCommand();
  const child: ChildProcess = spawn(cmd, [...args, 'run', '-c', configFile], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORTCULLIS_CONTROL: join(dir, 'control.sock') },
  });
  let out = '';
  const keep = (d: string) => {
    out += d;
    if (out.length > 64_000) out = out.slice(-32_000); // only the tail matters for diagnostics
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const output = () => {
    const log = join(dir, 'gateway.log');
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '';
    return `${out}${tail ? `\n--- gateway.log (tail) ---\n${tail}` : ''}`;
  };
  const fail = async (why: string): Promise<never> => {
    child.kill('SIGKILL');
    await exited;
    const o = output();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`gateway (${label}) did not become ready: ${why}\n${o.slice(-3000)}`);
  };
  const early = exited.then(() => 'exited');
  const ready = waitForPort(c.port, startTimeoutMs).then(() => 'ready', (e: Error) => e.message);
  const first = await Promise.race([early, ready]);
  if (first !== 'ready') return fail(first === 'exited' ? `the process exited with ${child.exitCode ?? child.signalCode}` : first);
  // With workers, the port may accept before every worker is up; a proxied 200 shows the path works.
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = await probe(c.port).catch(() => 0);
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  if (status !== 200) return fail(`GET / through the gateway answered ${status || 'nothing'}`);
  return {
    pid: child.pid!,
    port: c.port,
    dir,
    configFile,
    command: `${label} run -c FILE`,
    output,
    alertCount() {
      const f = join(dir, 'alerts.jsonl');
      if (!existsSync(f)) return 0;
      const text = readFileSync(f, 'utf8');
      return text === '' ? 0 : text.trimEnd().split('\n').length;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const tree = processTree(child.pid!);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
        // Workers the master did not take down with it (it was killed): end them by pid.
        for (const pid of tree) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
