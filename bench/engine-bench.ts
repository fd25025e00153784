/**
 * The policy engine alone, in process, one thread (issue #3 item 8): transactions per second and
 * per-transaction latency on four corpora (benign browser-like GETs, 2 KB form POSTs, JSON POSTs,
 * attacks), with the OWASP CRS at PL1 and at PL4, `active` mode.
 *
 * It drives the engine through the same seam the request pipeline uses (src/pipeline/inspection.ts:
 * `createInspectorSet` from src/policy/inspector.ts → Inspector.begin → requestHeaders →
 * requestBodyDone → responseHeaders → responseBodyDone → end), so the number is what a gateway
 * worker pays per request for inspection, without sockets. The configuration is built by the real
 * loader from YAML. Decisions are counted: benign traffic that is blocked (a false positive) and
 * attacks that pass are reported next to the speed, so a fast engine that checks nothing shows.
 *
 * Run:  npm run bench -- engine [--seconds S] [--no-write] [--cpu] [--only 1:get,1:form]
 *       (or node --import tsx bench/engine-bench.ts …)
 * It rewrites the `engine-bench` section of docs/BENCHMARKS.md unless --no-write is given.
 */
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parseConfigText, formatConfigError } from '../src/config/load.js';
import type { GatewayConfig } from '../src/config/types.js';
import type { Decision, InspectorSet, RequestFacts, ResponseFacts } from '../src/pipeline/inspection.js';
import type { InspectorDeps } from '../src/policy/inspector.js';
import { describeMachine } from './lib/machine.js';
import { writeSection } from './lib/report-section.js';
import { REPO_ROOT } from './lib/gateway.js';
// @ts-expect-error: plain ESM module without type declarations
import { ORIGIN_PAGE } from './origin.mjs';

type Pl = 1 | 4;

interface Sample {
  readonly method: string;
  readonly target: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

// ---------------------------------------------------------------------------------------------
// Corpora
// ---------------------------------------------------------------------------------------------

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const browserHeaders = (extra: Array<[string, string]> = []): Array<[string, string]> => [
  ['Host', 'shop.example.com'],
  ['User-Agent', UA],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'],
  ['Accept-Language', 'en-GB,en;q=0.9,de;q=0.8'],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Cookie', 'sessionid=8f14e45fceea167a5a36dedd4bea2543; csrftoken=Zx81TqLmNo4PqRsTuVwXyZ0123456789; cart=3; lang=en'],
  ...extra,
];

const benignGets: Sample[] = [
  '/shop/search?q=red+running+shoes&category=footwear&size=42&page=2&sort=price_asc&utm_source=newsletter',
  '/',
  '/p/1003?variant=blue&ref=search',
  '/shop/category/footwear?page=1&per_page=48&filter%5Bbrand%5D=acme&filter%5Bcolour%5D=red',
  '/static/site.css?v=20240611',
  '/account/orders?year=2024',
  '/blog/2024/06/how-to-choose-running-shoes',
  '/api/v1/cart/items?include=price,stock',
].map((target) => ({
  method: 'GET', target, body: Buffer.alloc(0),
  headers: browserHeaders([['Referer', 'https://shop.example.com/'], ['Sec-Fetch-Mode', 'navigate'], ['Upgrade-Insecure-Requests', '1']]),
}));

function formBody(bytes: number, seed: number): Buffer {
  const fields = [
    `csrftoken=Zx81TqLmNo4PqRsTuVwXyZ01234567${seed}`, 'first_name=Alice', 'last_name=Lindqvist',
    'email=alice.lindqvist%40example.com', 'phone=%2B46701234567', 'street=Storgatan+12', 'city=Uppsala',
    'postcode=75320', 'country=SE', 'shipping=standard', 'newsletter=yes', `item_1=SKU1007${seed}`, 'qty_1=1',
  ].join('&');
  const words = ['please', 'leave', 'the', 'parcel', 'with', 'the', 'neighbour', 'if', 'nobody', 'is', 'home'];
  let note = '';
  for (let i = 0; fields.length + 15 + note.length + 12 < bytes; i++) note += (note ? '+' : '') + words[(i + seed) % words.length];
  const body = `${fields}&delivery_note=${note}`;
  return Buffer.from(body + 's'.repeat(Math.max(0, bytes - body.length)));
}

const formPosts: Sample[] = [0, 1, 2, 3].map((seed) => ({
  method: 'POST', target: '/shop/checkout?step=confirm', body: formBody(2048, seed),
  headers: browserHeaders([['Content-Type', 'application/x-www-form-urlencoded'], ['Origin', 'https://shop.example.com']]),
}));

function jsonBody(seed: number): Buffer {
  const order = {
    customer: { id: 81234 + seed, name: 'Alice Lindqvist', email: 'alice.lindqvist@example.com', newsletter: true },
    shipping: { street: 'Storgatan 12', city: 'Uppsala', postcode: '75320', country: 'SE', method: 'standard' },
    items: Array.from({ length: 12 }, (_, i) => ({ sku: `SKU${100700 + i + seed}`, qty: 1 + (i % 3), price: 19.5 + i, gift: i % 4 === 0 })),
    note: 'Please leave the parcel with the neighbour if nobody is home.',
  };
  return Buffer.from(JSON.stringify(order));
}

const jsonPosts: Sample[] = [0, 1, 2, 3].map((seed) => ({
  method: 'POST', target: '/api/v1/orders', body: jsonBody(seed),
  headers: browserHeaders([['Content-Type', 'application/json'], ['Accept', 'application/json']]),
}));

const attack = (method: string, target: string, body = '', type = 'application/x-www-form-urlencoded'): Sample => ({
  method, target, body: Buffer.from(body),
  headers: browserHeaders(body ? [['Content-Type', type]] : []),
});

const attacks: Sample[] = [
  attack('GET', "/shop/search?q=1'%20OR%20'1'='1'%20--%20"),                                  // SQLi
  attack('GET', '/shop/search?q=1%20UNION%20SELECT%20username,password%20FROM%20users--'),      // SQLi
  attack('GET', '/shop/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E'),             // XSS
  attack('GET', '/p/1?img=%3Cimg%20src=x%20onerror=alert(1)%3E'),                              // XSS
  attack('GET', '/download?file=../../../../etc/passwd'),                                         // LFI
  attack('GET', '/ping?host=127.0.0.1;cat%20/etc/passwd'),                                        // RCE
  attack('GET', '/index.php?page=php://filter/convert.base64-encode/resource=index'),             // PHP
  attack('POST', '/login', "username=admin'--&password=x"),                                       // SQLi in a body
  attack('POST', '/comment', 'text=%3Csvg/onload=alert(1)%3E&name=x'),                           // XSS in a body
  attack('POST', '/api/v1/orders', '{"note":"<script>alert(1)</script>","id":"1 OR 1=1"}', 'application/json'),
];

/**
 * --fresh: the sample as another user would send it — a unique session cookie and a unique first
 * argument value (query string, form field or JSON id; attacks keep their payload) — so remembered
 * per-value answers cannot serve those values. Everything else (User-Agent, Accept*, the other arguments) repeats, as it does across
 * the requests of real browsers.
 */
export function freshen(s: Sample, n: number, args = true): Sample {
  const tag = n.toString(36);
  const headers = s.headers.map(([k, v]): [string, string] =>
    k === 'Cookie' ? [k, v.replace(/sessionid=[0-9a-f]+/, `sessionid=${n.toString(16).padStart(32, '0')}`)] : [k, v],
  );
  // Attack payloads stay as they are (a suffix could turn one into a near miss): only the cookie changes.
  if (!args) return { method: s.method, target: s.target, headers, body: s.body };
  let target = s.target;
  const q = target.indexOf('?');
  if (q >= 0) {
    const amp = target.indexOf('&', q);
    target = amp < 0 ? target + tag : target.slice(0, amp) + tag + target.slice(amp);
  }
  let body = s.body;
  if (body.length > 0) {
    const text = body.toString('latin1');
    const json = text.replace(/"id":(\d+)/, (_m, d: string) => `"id":${d}${n}`);
    const amp = text.indexOf('&');
    const fresh = json !== text ? json : amp > 0 ? text.slice(0, amp) + tag + text.slice(amp) : text;
    body = Buffer.from(fresh, 'latin1');
  }
  return { method: s.method, target, headers, body };
}

export const CORPORA = [
  { name: 'benign GET', samples: benignGets, attack: false },
  { name: '2 KB form POST', samples: formPosts, attack: false },
  { name: 'JSON POST', samples: jsonPosts, attack: false },
  { name: 'attacks', samples: attacks, attack: true },
] as const;

// ---------------------------------------------------------------------------------------------
// Engine set-up through the real loader and the pipeline seam
// ---------------------------------------------------------------------------------------------

export function benchConfig(): GatewayConfig {
  const group = (name: string, pl: Pl, port: number) => `
      - name: ${name}
        operationMode: active
        servers: [127.0.0.1]
        policies: { crs: { paranoiaLevel: ${pl} } }
        services:
          - name: web-${name}
            ports: [${port}]
            reverseProxy:
              - alias: loopback
                port: ${port}
                rules: [{ priority: 10, host: "*", urlPrefix: /, serverIp: 127.0.0.1, serverPort: 9 }]`;
  const yaml = `
gateway:
  mode: alias
  skipAddressCheck: true
  log: { level: silent, accessLog: false }
  aliases: [{ name: loopback, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: Engine benchmark
    serverGroups:${group('pl1', 1, 18001)}${group('pl4', 4, 18004)}
`;
  const r = parseConfigText(yaml, join(REPO_ROOT, 'bench/engine-bench.yaml'));
  if (!r.ok) throw new Error(`engine-bench configuration is invalid:\n${r.errors.map(formatConfigError).join('\n')}`);
  return r.config;
}

export async function loadEngine(config: GatewayConfig): Promise<{ set: InspectorSet; alerts: () => number }> {
  let mod: { createInspectorSet(c: GatewayConfig, d: InspectorDeps): InspectorSet };
  try {
    // Resolved at run time: the engine's entry point (src/policy/inspector.ts) is the seam this
    // benchmark targets; a tree without it gets a clear message instead of a type error.
    const path = '../src/policy/inspector.js';
    mod = await import(path);
  } catch (e) {
    throw new Error(`the policy engine is not available (src/policy/inspector.ts: ${(e as Error).message.split('\n')[0]})`);
  }
  let alerts = 0;
  // Alerts are counted, not written: the benchmark measures the engine, not the disk.
  const alertSink: InspectorDeps['alertSink'] = () => { alerts++; };
  const set = mod.createInspectorSet(config, { logger: pino({ level: 'silent' }), alertSink });
  return { set, alerts: () => alerts };
}

const RESPONSE: ResponseFacts = {
  status: 200,
  httpVersion: '1.1',
  rawHeaders: ['Content-Type', 'text/html; charset=utf-8', 'Content-Length', String(ORIGIN_PAGE.length), 'Server', 'origin'],
};

let txCounter = 0;
let freshCounter = 0;

/** One full transaction, as the pipeline drives it; returns the decisive decision's kind. */
export function runTransaction(set: InspectorSet, group: string, s: Sample): Decision['kind'] {
  const inspector = set.get(group);
  if (!inspector) throw new Error(`no inspector for server group ${group}`);
  const raw: string[] = [];
  for (const [k, v] of s.headers) raw.push(k, v);
  if (s.body.length) raw.push('Content-Length', String(s.body.length));
  const facts: RequestFacts = {
    id: `bench-${++txCounter}`, serverGroup: group, peerIp: '192.0.2.10', peerPort: 40000 + (txCounter & 0x3fff),
    clientIp: '192.0.2.10', localIp: '127.0.0.1', localPort: 8080, tls: false, method: s.method,
    rawTarget: s.target, httpVersion: '1.1', rawHeaders: raw, startedAt: Date.now(),
  };
  const insp = inspector.begin(facts);
  if (!insp) return 'allow';
  let d = insp.requestHeaders();
  if (d.kind === 'allow') {
    const limit = insp.requestBody.limit;
    const complete = limit === 0 || s.body.length <= limit;
    d = insp.requestBodyDone(limit === 0 ? Buffer.alloc(0) : complete ? s.body : s.body.subarray(0, limit), complete);
  }
  if (d.kind === 'allow') d = insp.responseHeaders(RESPONSE);
  if (d.kind === 'allow' && insp.responseBodyLimit > 0) d = insp.responseBodyDone(ORIGIN_PAGE, ORIGIN_PAGE.length <= insp.responseBodyLimit);
  const status = d.kind === 'allow' ? 200 : d.kind === 'drop' ? 0 : d.status;
  insp.end({ status, bytesIn: s.body.length, bytesOut: status === 200 ? ORIGIN_PAGE.length : 0, error: null, durationMs: 0 });
  return d.kind;
}

interface Row {
  readonly pl: Pl;
  readonly corpus: string;
  readonly tps: number;
  /** CPU time of this process (user + system) per transaction over the measured loop; descheduling does not inflate it. */
  readonly cpuUs: number;
  readonly p50us: number;
  readonly p99us: number;
  readonly transactions: number;
  readonly allowed: number;
  readonly blocked: number;
  readonly attack: boolean;
}

function measure(set: InspectorSet, pl: Pl, corpus: (typeof CORPORA)[number], seconds: number, fresh: boolean): Row {
  const group = `pl${pl}`;
  const sample = (i: number): Sample => {
    const s = corpus.samples[i % corpus.samples.length]!;
    return fresh ? freshen(s, ++freshCounter, !corpus.attack) : s;
  };
  // Warm-up: JIT, regex caches; a tenth of the measured time, at least 200 transactions.
  const warmEnd = performance.now() + Math.max(200, seconds * 100);
  for (let i = 0; performance.now() < warmEnd || i < 200; i++) runTransaction(set, group, sample(i));
  const lat: number[] = [];
  let allowed = 0;
  let blocked = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  for (let i = 0; now < end; i++) {
    const s = sample(i);
    const t0 = fresh ? performance.now() : now;
    const kind = runTransaction(set, group, s);
    now = performance.now();
    lat.push(now - t0);
    if (kind === 'allow') allowed++;
    else blocked++;
  }
  const elapsed = (now - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / lat.length;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]! * 1000;
  return { pl, corpus: corpus.name, tps: lat.length / elapsed, cpuUs, p50us: pct(50), p99us: pct(99), transactions: lat.length, allowed, blocked, attack: corpus.attack };
}

function render(rows: readonly Row[], seconds: number, command: string, started: Date, loadBefore: string, cpu: boolean, fresh: boolean): string {
  const m = describeMachine();
  const out: string[] = [];
  out.push('## Engine benchmark: the policy engine alone, in process');
  out.push('');
  const load1 = Number(loadBefore.split(' ')[0]);
  if (load1 > 1.5) {
    out.push(`> **Measured under load**: the 1-minute load average was ${load1.toFixed(2)} when the run started, so the engine shared its core with other work.`, '');
  }
  out.push(`Measured ${started.toISOString().replace('T', ' ').slice(0, 16)} UTC with:`);
  out.push('', '```sh', command, '```', '');
  out.push(`- machine: ${m.cpus} cores (nproc), ${m.cpuModel}, ${m.kernel}, ${m.node}; one thread`);
  out.push(`- load average before the run: ${loadBefore}; after: ${m.loadAvg}`);
  out.push(`- OWASP CRS from Debian's modsecurity-crs, operationMode active; every transaction runs phases 1–5 through the pipeline seam (InspectorSet), response = the origin's ${ORIGIN_PAGE.length}-byte HTML page`);
  out.push(`- ${seconds} s measured per row after a warm-up; latency is per transaction`);
  if (fresh) out.push('- `--fresh`: every transaction has a unique session cookie and a unique first argument value');
  out.push('');
  if (cpu) {
    out.push('- CPU µs/tx: process CPU time (user + system, `process.cpuUsage()`) over the measured loop per transaction');
    out.push('');
  }
  out.push(`| PL | corpus | transactions/s |${cpu ? ' CPU µs/tx |' : ''} p50 µs | p99 µs | allowed | blocked |`);
  out.push(`|---:|---|---:|${cpu ? '---:|' : ''}---:|---:|---:|---:|`);
  for (const r of rows) {
    const note = r.attack ? (r.allowed ? ` (${r.allowed} attacks passed)` : '') : (r.blocked ? ' (false positives)' : '');
    const cpuCell = cpu ? ` ${r.cpuUs.toFixed(0)} |` : '';
    out.push(`| ${r.pl} | ${r.corpus} | ${r.tps.toFixed(0)} |${cpuCell} ${r.p50us.toFixed(0)} | ${r.p99us.toFixed(0)} | ${r.allowed} | ${r.blocked}${note} |`);
  }
  out.push('');
  return out.join('\n');
}

/** Short corpus names for --only. */
function corpusKey(name: string): string {
  return name === 'benign GET' ? 'get' : name === '2 KB form POST' ? 'form' : name === 'JSON POST' ? 'json' : 'attacks';
}

function parseOnly(spec: string): { pl: number | null; corpus: string | null } {
  const m = /^(1|4|\*):(get|form|json|attacks|\*)$/.exec(spec.trim());
  if (m === null) throw new Error(`--only: "${spec}" is not PL:CORPUS (PL 1, 4 or *; CORPUS get, form, json, attacks or *)`);
  return { pl: m[1] === '*' ? null : Number(m[1]), corpus: m[2] === '*' ? null : m[2]! };
}

export async function main(argv: string[]): Promise<void> {
  let seconds = 3;
  let write = true;
  let cpu = false;
  let fresh = false;
  let only: Array<{ pl: number | null; corpus: string | null }> | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') {
      seconds = Number(argv[++i]);
      if (!(seconds > 0)) throw new Error('--seconds must be a positive number');
    } else if (a === '--no-write') write = false;
    else if (a === '--cpu') cpu = true;
    else if (a === '--fresh') fresh = true;
    else if (a === '--only') {
      const spec = argv[++i];
      if (spec === undefined) throw new Error('--only needs a value, e.g. 1:get or 1:get,4:form');
      only = spec.split(',').map(parseOnly);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: npm run bench -- engine [--seconds S (default 3)] [--no-write] [--cpu] [--fresh] [--only PL:CORPUS[,…]]\n' +
          '  --fresh unique session cookie and first argument value per transaction (nothing to remember across requests)\n' +
          '  --cpu   also report process CPU µs per transaction (robust on a shared machine)\n' +
          '  --only  rows to run, e.g. 1:get,1:form,4:json,1:attacks, 1:* or *:get (implies --no-write)\n',
      );
      return;
    } else throw new Error(`unknown argument ${a}`);
  }
  const started = new Date();
  const loadBefore = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  // A partial table must not replace the full one in docs/BENCHMARKS.md.
  if (only !== null) write = false;
  const command = `npm run bench -- engine${argv.length ? ' ' + argv.join(' ') : ''}`;
  const t0 = performance.now();
  const { set, alerts } = await loadEngine(benchConfig());
  process.stderr.write(`[engine-bench] CRS PL1 and PL4 compiled in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  const rows: Row[] = [];
  try {
    for (const pl of [1, 4] as const) {
      for (const c of CORPORA) {
        if (only !== null && !only.some((o) => (o.pl === null || o.pl === pl) && (o.corpus === null || corpusKey(c.name) === o.corpus))) continue;
        const r = measure(set, pl, c, seconds, fresh);
        const cpuText = cpu ? `, ${r.cpuUs.toFixed(0)} CPU µs/tx` : '';
        process.stderr.write(`[engine-bench] PL${pl} ${c.name}: ${r.tps.toFixed(0)} tx/s${cpuText}, p50 ${r.p50us.toFixed(0)} µs, p99 ${r.p99us.toFixed(0)} µs, allowed ${r.allowed}, blocked ${r.blocked}\n`);
        rows.push(r);
      }
    }
  } finally {
    set.close();
  }
  process.stderr.write(`[engine-bench] ${alerts()} alerts emitted\n`);
  const report = render(rows, seconds, command, started, loadBefore, cpu, fresh);
  process.stdout.write(report + '\n');
  if (write) writeSection(join(REPO_ROOT, 'docs/BENCHMARKS.md'), 'engine-bench', report);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`engine-bench: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
