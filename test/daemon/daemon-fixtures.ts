/**
 * Shared pieces of the daemon and CLI tests: free ports, origins that say who they are, configuration
 * files written to a temporary directory, HTTP with keep-alive, and the real CLI as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(REPO, 'src/cli/main.ts');

export function tempDir(prefix = 'pc-daemon-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port nobody listens on right now (bound once on port 0, then released). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** An origin answering `${name} ${path}`, on a port of its own. */
export interface Origin {
  readonly name: string;
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

export async function startOrigin(name: string, delayMs = 0): Promise<Origin> {
  const server = http.createServer((req, res) => {
    req.resume();
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${name} ${req.url}`);
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface ListenerPlan {
  readonly port: number;
  readonly originPort: number;
}

export interface ConfigPlan {
  readonly listeners: readonly ListenerPlan[];
  readonly socket: string;
  readonly logFile: string;
  readonly workers?: number;
  /** Default true: loopback aliases on 127.0.0.1 always exist, but the check is tested on its own. */
  readonly skipAddressCheck?: boolean;
  readonly alias?: { readonly device: string; readonly address: string };
  readonly shutdownGraceMs?: number;
  /** Raw YAML lines appended under `gateway:` (to make a file invalid on purpose). */
  readonly extraGatewayYaml?: string;
}

export function configYaml(plan: ConfigPlan): string {
  const alias = plan.alias ?? { device: 'lo', address: '127.0.0.1/8' };
  const ports = plan.listeners.map((l) => l.port);
  return `gateway:
  mode: alias
  workers: ${plan.workers ?? 1}
  skipAddressCheck: ${plan.skipAddressCheck ?? true}
  log: { level: info, file: ${JSON.stringify(plan.logFile)} }
  control: { socket: ${JSON.stringify(plan.socket)} }
  timeouts: { shutdownGraceMs: ${plan.shutdownGraceMs ?? 3000} }
  aliases:
    - { name: vip1, device: ${alias.device}, address: ${alias.address} }
${plan.extraGatewayYaml ?? ''}
sites:
  - name: Test Site
    serverGroups:
      - name: tests
        operationMode: simulation
        servers: [127.0.0.1]
        services:
          - name: web
            ports: [${ports.join(', ')}]
            reverseProxy:
${plan.listeners
  .map(
    (l) => `              - alias: vip1
                port: ${l.port}
                rules:
                  - { priority: 10, host: "*", urlPrefix: /, serverIp: 127.0.0.1, serverPort: ${l.originPort} }
`,
  )
  .join('')}`;
}

export function writeConfig(file: string, plan: ConfigPlan): string {
  writeFileSync(file, configYaml(plan));
  return file;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly reusedSocket: boolean;
}

export function get(port: number, path: string, agent?: http.Agent, host = '127.0.0.1'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `portcullis ARGS` (the TypeScript sources through tsx) to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`portcullis ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    collect(child).then((r) => {
      clearTimeout(timer);
      resolve(r);
    }, reject);
  });
}

export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { output(): { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
}

export function collect(child: ChildProcess & { output(): { stdout: string; stderr: string } }): Promise<CliRun> {
  return new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal, ...child.output() });
    if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode, child.signalCode);
    child.once('close', done);
  });
}
