/**
 * Private nginx instances for the benchmarks: each gets its own prefix (config, pid, logs, temp
 * dirs) in a temp directory and listens on a loopback high port, so the distro's nginx service
 * and /etc/nginx are never touched. The master runs in the foreground (`daemon off`) as our child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from './ports.js';

export const NGINX_MODULES_DIR = '/usr/lib/nginx/modules';

export interface NginxInstance {
  readonly name: string;
  readonly prefix: string;
  readonly port: number;
  readonly pid: number;
  /** The error log's contents (for diagnostics when something fails). */
  errorLog(): string;
  stop(): Promise<void>;
}

/** The parts every private instance shares: where its files go, and loopback-only events/http basics. */
export function nginxMain(prefix: string, opts: { workers: string; modules?: readonly string[] }): string {
  const asRoot = process.getuid?.() === 0;
  return [
    ...(opts.modules ?? []).map((m) => `load_module ${join(NGINX_MODULES_DIR, m)};`),
    // As root nginx would switch workers to `nobody`, who cannot enter our 0700 temp prefix.
    asRoot ? 'user root root;' : '',
    `worker_processes ${opts.workers};`,
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${join(prefix, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
  ].join('\n');
}

export function nginxHttpCommon(prefix: string, accessLog: boolean): string {
  return [
    `client_body_temp_path ${join(prefix, 'client_body')};`,
    `proxy_temp_path ${join(prefix, 'proxy')};`,
    `fastcgi_temp_path ${join(prefix, 'fastcgi')};`,
    `uwsgi_temp_path ${join(prefix, 'uwsgi')};`,
    `scgi_temp_path ${join(prefix, 'scgi')};`,
    accessLog ? `access_log ${join(prefix, 'access.log')};` : 'access_log off;',
    'keepalive_requests 1000000;',
    'keepalive_timeout 65s;',
  ].join('\n');
}

/**
 * Writes `conf(prefix)` to PREFIX/nginx.conf, checks it with `nginx -t`, starts nginx and waits for
 * `port` to accept connections.
 */
export async function startNginx(name: string, port: number, conf: (prefix: string) => string): Promise<NginxInstance> {
  const prefix = mkdtempSync(join(tmpdir(), `portcullis-bench-${name}-`));
  const confFile = join(prefix, 'nginx.conf');
  writeFileSync(confFile, conf(prefix));
  const base = ['-p', prefix, '-c', confFile, '-e', join(prefix, 'error.log')];
  const check = spawn('nginx', [...base, '-t', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let checkOut = '';
  check.stderr.setEncoding('utf8').on('data', (d: string) => (checkOut += d));
  const checkCode: number = await new Promise((resolve, reject) => {
    check.on('error', (e) => reject(new Error(`cannot run nginx (install it with bench/setup.sh): ${e.message}`)));
    check.on('close', (c) => resolve(c ?? 1));
  });
  if (checkCode !== 0) throw new Error(`nginx ${name}: configuration test failed (${confFile}):\n${checkOut}`);

  const child: ChildProcess = spawn('nginx', [...base, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const errorLog = () => (existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : '') + stderr;
  try {
    await waitForPort(port, 15_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`nginx ${name} did not start: ${(e as Error).message}\n${errorLog()}`);
  }
  return {
    name,
    prefix,
    port,
    pid: child.pid!,
    errorLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT'); // graceful: finish in-flight requests
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** nginx serving the origin's page and POST reply itself (a C origin that costs less CPU than node). */
export function originNginxConf(port: number, page: Buffer, postReply: Buffer, accessLog: boolean) {
  return (prefix: string) => {
    writeFileSync(join(prefix, 'page.html'), page);
    return `${nginxMain(prefix, { workers: '1' })}
http {
  ${nginxHttpCommon(prefix, accessLog)}
  default_type text/html;
  server {
    listen 127.0.0.1:${port};
    location / {
      # POST and other methods: nginx reads (and discards) the body, then answers the short reply.
      if ($request_method !~ ^(GET|HEAD)$) { return 200 '${postReply.toString('latin1').trim()}\n'; }
      root ${prefix};
      try_files /page.html =404;
    }
  }
}
`;
  };
}

/** nginx as a reverse proxy in front of the origin, optionally with ModSecurity v3 + the OWASP CRS. */
export function proxyNginxConf(opts: {
  port: number;
  originPort: number;
  accessLog: boolean;
  /** Absolute path of a ModSecurity rules file (modsecurity.conf + CRS); null = plain proxy. */
  modsecurityRules: string | null;
}) {
  return (prefix: string) => `${nginxMain(prefix, {
    workers: 'auto',
    modules: opts.modsecurityRules ? ['ngx_http_modsecurity_module.so'] : [],
  })}
http {
  ${nginxHttpCommon(prefix, opts.accessLog)}
  upstream origin {
    server 127.0.0.1:${opts.originPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${opts.port};
    ${opts.modsecurityRules ? `modsecurity on;\n    modsecurity_rules_file ${opts.modsecurityRules};` : ''}
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
}
