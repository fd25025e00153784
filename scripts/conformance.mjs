#!/usr/bin/env node
// OWASP CRS conformance: runs the CRS regression tests (ftw YAML) through the gateway, the way CRS CI
// ran them against ModSecurity (profile in config/examples/crs-ci.yaml), and ends with the runner's
// line `N passed, M failed`.
//
//   npm run conformance -- [--tests DIR] [--filter REGEX] [--threshold N] [options]
//
// It builds nothing: it runs dist/src/cli/main.js when `npm run build` has been done, else the
// TypeScript sources through tsx (or --source forces the sources). It starts, on loopback:
//   - an echo backend (node:http) that answers 200 to any request, after reading its body;
//   - the gateway with config/examples/crs-ci.yaml, rewritten into a temp file with free ports;
//   - ../shared/tools/crs-ftw/run.mjs (resolved from the repository root; `npm ci` is run there when
//     its node_modules is missing) with --ids-from-header X-Matched-Rules.
// Exit status: 0 when the run completed (and passed >= --threshold when given), 1 when passed <
// --threshold or the gateway failed, 2 on bad usage or a missing tool/test directory.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, isMap, isSeq } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = resolve(ROOT, '../shared');
const IDS_HEADER = 'X-Matched-Rules';

const USAGE = `usage: npm run conformance -- [options]
  --tests DIR|FILE      CRS ftw tests (default ../shared/crs-tests/v3.3.4 from the repository root)
  --filter REGEX        only tests whose title or file path matches (passed to the runner)
  --threshold N         exit 1 when fewer than N tests pass
  --config FILE         gateway configuration (default config/examples/crs-ci.yaml); its ports and
                        log/alert/control paths are replaced by free ports and a temp dir
  --source              run src/cli/main.ts through tsx even when dist/ exists
  --show-failures N     failing tests the runner lists (runner default 40; -1 = all)
  --json FILE           per-test results as JSON (passed to the runner)
  --verbose             the runner prints every failing test with request and response
  --keep                keep the temp dir (generated config, gateway log, alerts) and print its path
  --help
Environment: CRS_FTW_DIR overrides the runner's directory (default ../shared/tools/crs-ftw).`;

function die(msg, code = 2) {
  process.stderr.write(`conformance: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = {
    tests: join(SHARED, 'crs-tests/v3.3.4'), filter: null, threshold: null, config: join(ROOT, 'config/examples/crs-ci.yaml'),
    source: false, showFailures: null, json: null, verbose: false, keep: false,
  };
  const need = (i) => (i + 1 < argv.length ? argv[i + 1] : die(`missing value for ${argv[i]}`));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--tests': o.tests = resolve(need(i)); i++; break;
      case '--filter': o.filter = need(i); i++;
        try { new RegExp(o.filter); } catch (e) { die(`--filter is not a valid regular expression: ${e.message}`); }
        break;
      case '--threshold': {
        const n = Number(need(i)); i++;
        if (!Number.isInteger(n) || n < 0) die(`--threshold must be a non-negative integer (got ${argv[i]})`);
        o.threshold = n;
        break;
      }
      case '--config': o.config = resolve(need(i)); i++; break;
      case '--source': o.source = true; break;
      case '--show-failures': o.showFailures = need(i); i++; break;
      case '--json': o.json = resolve(need(i)); i++; break;
      case '--verbose': case '-v': o.verbose = true; break;
      case '--keep': o.keep = true; break;
      case '--help': case '-h': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: die(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (!existsSync(o.tests)) die(`no tests at ${o.tests} (the shared folder is expected at ${SHARED}; give --tests DIR)`);
  if (!existsSync(o.config)) die(`no configuration at ${o.config}`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------------------------

function runnerDir() {
  const dir = process.env.CRS_FTW_DIR ? resolve(process.env.CRS_FTW_DIR) : join(SHARED, 'tools/crs-ftw');
  if (!existsSync(join(dir, 'run.mjs'))) die(`the CRS test runner is missing: ${join(dir, 'run.mjs')} (set CRS_FTW_DIR)`);
  if (!existsSync(join(dir, 'node_modules/yaml'))) {
    process.stderr.write(`conformance: installing the runner's dependencies (npm ci in ${dir})\n`);
    // Concurrent npm runs on one machine corrupt each other's caches; serialise when flock exists.
    const hasFlock = spawnSync('sh', ['-c', 'command -v flock'], { stdio: 'ignore' }).status === 0;
    const cmd = hasFlock ? ['flock', ['/tmp/npm.lock', 'npm', 'ci', '--no-audit', '--no-fund']] : ['npm', ['ci', '--no-audit', '--no-fund']];
    const r = spawnSync(cmd[0], cmd[1], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) die(`npm ci in ${dir} failed (exit ${r.status})`);
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------
// The echo backend
// ---------------------------------------------------------------------------------------------

// Answers 200 to anything once the body is read, echoing the request like httpbin's /anything, so the
// CRS tests' requests (odd methods, odd paths, bodies of any type) all get a normal response.
function startEchoBackend() {
  const server = http.createServer({ insecureHTTPParser: true, requireHostHeader: false }, (req, res) => {
    let bytes = 0;
    req.on('data', (d) => { bytes += d.length; });
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyBytes: bytes }) + '\n';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    req.on('error', () => res.destroy());
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.maxHeadersCount = 0;
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res({ server, port: server.address().port }));
  });
}

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The gateway
// ---------------------------------------------------------------------------------------------

/** The profile config with every listener on `gatewayPort`, every upstream on `backendPort`, files in `dir`. */
export function rewriteConfig(text, file, { gatewayPort, backendPort, dir }) {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
  doc.setIn(['gateway', 'log', 'file'], join(dir, 'gateway.log'));
  doc.setIn(['gateway', 'alerts', 'file'], join(dir, 'alerts.jsonl'));
  doc.setIn(['gateway', 'control', 'socket'], join(dir, 'control.sock'));
  if (doc.getIn(['gateway', 'alerts', 'ruleIdsHeader']) !== IDS_HEADER) {
    throw new Error(`${file}: gateway.alerts.ruleIdsHeader must be ${IDS_HEADER} (the runner reads the rule ids from it)`);
  }
  let listeners = 0;
  const sites = doc.get('sites');
  for (const site of isSeq(sites) ? sites.items : []) {
    for (const group of seqItems(site, 'serverGroups')) {
      for (const service of seqItems(group, 'services')) {
        const rps = seqItems(service, 'reverseProxy');
        if (rps.length === 0) continue;
        service.set('ports', doc.createNode([gatewayPort], { flow: true }));
        if (service.has('sslPorts')) service.set('sslPorts', doc.createNode([]));
        for (const rp of rps) {
          rp.set('port', gatewayPort);
          listeners++;
          for (const rule of seqItems(rp, 'rules')) rule.set('serverPort', backendPort);
        }
      }
    }
  }
  if (listeners !== 1) throw new Error(`${file}: expected exactly one reverseProxy listener, found ${listeners}`);
  return doc.toString();
}

function seqItems(map, key) {
  if (!isMap(map)) return [];
  const v = map.get(key);
  return isSeq(v) ? v.items.filter(isMap) : [];
}

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function gatewayCommand(forceSource) {
  const built = join(ROOT, 'dist/src/cli/main.js');
  if (!forceSource && existsSync(built)) {
    if (newestMtime(join(ROOT, 'src')) > statSync(built).mtimeMs) {
      process.stderr.write('conformance: WARNING: dist/ is older than src/ (run `npm run build`, or use --source)\n');
    }
    return { args: [built], label: 'dist/src/cli/main.js' };
  }
  const src = join(ROOT, 'src/cli/main.ts');
  if (existsSync(src)) return { args: ['--import', 'tsx', src], label: 'src/cli/main.ts (tsx)' };
  die('no gateway CLI: run `npm run build` (dist/src/cli/main.js) or check out src/cli/main.ts', 1);
}

function get(port, path) {
  return new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'localhost', 'user-agent': 'portcullis-conformance' } }, (r) => {
      r.resume();
      r.on('end', () => res({ status: r.statusCode, ids: r.headers[IDS_HEADER.toLowerCase()] ?? null }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', rej);
    req.end();
  });
}

async function startGateway(configFile, port, forceSource, dir) {
  const { args, label } = gatewayCommand(forceSource);
  const child = spawn(process.execPath, [...args, 'run', '-c', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORTCULLIS_CONTROL: join(dir, 'control.sock') },
  });
  let out = '';
  const keep = (d) => { out = (out + d).slice(-20_000); };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise((res) => child.on('close', (code, sig) => res(code ?? sig)));
  // Last resort for every way this script can end (an exception, process.exit, a signal): a gateway
  // busy in a long evaluation would not act on SIGTERM, and must not outlive the run.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const tail = () => {
    const f = join(dir, 'gateway.log');
    return `${out}${existsSync(f) ? readFileSync(f, 'utf8').slice(-4000) : ''}`.trim();
  };
  const deadline = Date.now() + 60_000;
  let exitedWith = null;
  exited.then((c) => { exitedWith = c; });
  for (;;) {
    if (exitedWith !== null) throw new Error(`the gateway (${label}) exited with ${exitedWith} while starting:\n${tail()}`);
    const r = await get(port, '/').catch(() => null);
    if (r) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the gateway (${label}) did not answer on 127.0.0.1:${port} within 60 s:\n${tail()}`);
    }
    await new Promise((r2) => setTimeout(r2, 100));
  }
  return {
    label,
    tail,
    alive: () => exitedWith === null,
    async stop() {
      if (exitedWith === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ftw = runnerDir();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-conformance-'));
  const backend = await startEchoBackend();
  let gateway = null;
  const cleanup = async () => {
    if (gateway) await gateway.stop();
    backend.server.closeAllConnections();
    backend.server.close();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => cleanup().finally(() => process.exit(130)));
  try {
    const gatewayPort = await freePort();
    const configFile = join(dir, 'crs-ci.yaml');
    writeFileSync(configFile, rewriteConfig(readFileSync(o.config, 'utf8'), o.config, { gatewayPort, backendPort: backend.port, dir }));
    gateway = await startGateway(configFile, gatewayPort, o.source, dir);
    // A request every CRS version flags: when it comes back without rule ids, the engine is not wired
    // (or the header is off) and nearly every test will fail; say so up front.
    const canary = await get(gatewayPort, '/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E').catch((e) => ({ status: 0, ids: null, error: e.message }));
    process.stderr.write(`conformance: gateway ${gateway.label} on 127.0.0.1:${gatewayPort}, echo backend on 127.0.0.1:${backend.port}; ` +
      `canary XSS request → status ${canary.status}, ${IDS_HEADER}: ${canary.ids ?? '(absent)'}\n`);
    if (!canary.ids) process.stderr.write(`conformance: WARNING: no ${IDS_HEADER} header on an obvious attack; is the policy engine running?\n`);

    const args = [join(ftw, 'run.mjs'), '--tests', o.tests, '--target', `http://127.0.0.1:${gatewayPort}`, '--ids-from-header', IDS_HEADER];
    if (o.filter) args.push('--filter', o.filter);
    if (o.showFailures !== null) args.push('--show-failures', o.showFailures);
    if (o.json) args.push('--json', o.json);
    if (o.verbose) args.push('--verbose');
    const runner = spawn(process.execPath, args, { cwd: ftw, stdio: ['ignore', 'pipe', 'inherit'] });
    process.once('exit', () => runner.kill('SIGKILL'));
    let stdout = '';
    runner.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    const runnerExit = await new Promise((res) => runner.on('close', (code, sig) => res(code ?? sig)));

    const lines = stdout.trimEnd().split('\n');
    const last = lines.at(-1) ?? '';
    const m = /^(\d+) passed, (\d+) failed$/.exec(last);
    process.stdout.write(lines.slice(0, -1).join('\n') + '\n');
    let status = 0;
    if (!m) {
      process.stdout.write(`${last}\n`);
      process.stderr.write(`conformance: the runner did not end with "N passed, M failed" (exit ${runnerExit})\n`);
      return 1;
    }
    const passed = Number(m[1]);
    if (!gateway.alive()) {
      process.stdout.write(`conformance: the gateway exited during the run:\n${gateway.tail()}\n`);
      status = 1;
    }
    if (o.threshold !== null) {
      const ok = passed >= o.threshold;
      process.stdout.write(`conformance: ${passed} passed, threshold ${o.threshold}: ${ok ? 'ok' : 'BELOW THRESHOLD'}\n`);
      if (!ok) status = 1;
    }
    if (o.keep) process.stdout.write(`conformance: kept ${dir} (config, gateway.log, alerts.jsonl)\n`);
    process.stdout.write(`${last}\n`);
    return status;
  } finally {
    await cleanup();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => process.exit(code), (e) => die(e.message, 1));
}
