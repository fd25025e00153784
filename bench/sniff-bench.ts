/**
 * Sniff mode throughput (issue #5 item 5):
 *  1. replay: a generated pcap (keep-alive flows of GET requests and 300-byte responses, one request in
 *     ten an attack) through reassembly, HTTP parsing and the engine, in process: requests/s,
 *     packets/s and Mbit/s of capture replayed. The policy compile is not timed.
 *  2. live (--live, root): frames of the same traffic sent at rising rates (pcap_sendpacket from one
 *     network namespace over a veth pair) to a sniffer that captures with libpcap on the other end and
 *     runs the full pipeline; the highest rate with zero kernel drops (PACKET_STATISTICS) and every
 *     frame received is the sustained rate. Each pass of the traffic gets fresh client addresses, so
 *     every flow is new to the sniffer (never a retransmission).
 *
 * Run:  node --import tsx bench/sniff-bench.ts [--requests N] [--crs] [--live] [--seconds S] [--no-write]
 * It rewrites the `sniff-bench` section of docs/BENCHMARKS.md unless --no-write is given.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseConfigText } from '../src/config/load.js';
import type { GatewayConfig } from '../src/config/types.js';
import { LINKTYPE_ETHERNET } from '../src/packet/packet-decoder.js';
import { PcapReader, PcapWriter } from '../src/packet/pcap-file.js';
import { replayPcap } from '../src/packet/replay.js';
import { TcpConversation } from '../test/packet/tcp-fixtures.js';
import { describeMachine } from './lib/machine.js';
import { writeSection } from './lib/report-section.js';
import { REPO_ROOT } from './lib/gateway.js';

const SELF = fileURLToPath(import.meta.url);
const PER_FLOW = 10;
const RESPONSE_BODY = 'x'.repeat(300);
/**
 * The capture ring. cap opens libpcap in immediate mode with a 65535-byte snap length, and libpcap then
 * uses TPACKET_V2 with fixed slots of about 64 KiB: the ring holds bufferBytes / 64 KiB frames
 * (16 MiB ≈ 250 frames). Overridable with --buffer-mib to show the effect.
 */
let BUFFER_BYTES = 256 * 1024 * 1024;

function configText(crs: boolean): string {
  const policies = crs
    ? '          crs: { paranoiaLevel: 1 }\n'
    : `          secLang:
            directives: |
              SecRuleEngine On
              SecRule ARGS "@contains attack" "id:1001,phase:2,deny,status:403,log,msg:'attack in args'"
              SecRule REQUEST_HEADERS:User-Agent "@pm sqlmap nikto" "id:1002,phase:1,deny,status:403,log"
`;
  return `gateway:
  mode: sniff
  sniff: { interface: b0, bufferBytes: ${BUFFER_BYTES}, statsIntervalMs: 0 }
sites:
  - name: Bench
    serverGroups:
      - name: web
        operationMode: simulation
        servers: [10.1.0.2]
        policies:
${policies}        services:
          - name: web
            ports: [80]
`;
}

function loadConfig(crs: boolean, dir: string): GatewayConfig {
  const r = parseConfigText(configText(crs), join(dir, 'sniff-bench.yaml'));
  if (!r.ok) throw new Error(`bench configuration invalid: ${JSON.stringify(r.errors)}`);
  return r.config;
}

/** Writes `requests` requests (with responses) in keep-alive flows of PER_FLOW; returns packets written. */
function generate(file: string, requests: number, crs: boolean): { packets: number; bytes: number } {
  // The attack must be one the policy knows: a CRS SQL injection, or the test rule's keyword.
  const attackValue = crs ? "1%27%20OR%20%271%27%3D%271" : 'attack';
  const w = new PcapWriter(file, LINKTYPE_ETHERNET);
  let bytes = 0;
  let n = 0;
  for (let flow = 0; n < requests; flow++) {
    const client = `10.1.${1 + ((flow >> 8) % 250)}.${1 + (flow % 250)}`;
    const c = new TcpConversation(client, 10000 + (flow % 50000), '10.1.0.2', 80, (flow * 7919) >>> 0, (flow * 104729) >>> 0);
    const frames = [...c.handshake()];
    for (let i = 0; i < PER_FLOW && n < requests; i++, n++) {
      const attack = n % 10 === 9;
      frames.push(...c.send('client',
        `GET /catalog/item?id=${n}&q=${attack ? attackValue : 'shoes'}&page=2 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: text/html\r\nCookie: session=${n.toString(36)}\r\n\r\n`));
      frames.push(...c.send('server', `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${RESPONSE_BODY.length}\r\n\r\n${RESPONSE_BODY}`));
    }
    frames.push(...c.close());
    for (const f of frames) {
      w.write(f.frame, f.timeMs);
      bytes += f.frame.length;
    }
  }
  const packets = w.packets;
  w.close();
  return { packets, bytes };
}

interface LiveStep {
  offeredPps: number;
  sentPps: number;
  sent: number;
  received: number;
  dropped: number;
  requests: number;
  mbps: number;
  ok: boolean;
}

/** Sender role (inside the sending namespace): frames of `pcap` at `rate` per second for `seconds`. */
async function sender(pcap: string, iface: string, rate: number, seconds: number): Promise<void> {
  const frames: Buffer[] = [];
  const r = new PcapReader(pcap);
  r.read((f) => frames.push(Buffer.from(f)));
  r.close();
  const { default: capModule } = (await import('cap')) as unknown as { default: { Cap: typeof import('cap').Cap } };
  const cap = new capModule.Cap();
  cap.open(iface, 'not ip and not ip6 and not arp', 1 << 20, Buffer.alloc(65535));
  let sent = 0;
  let bytes = 0;
  let loop = 0;
  let i = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      if (now >= end) return done();
      const target = Math.floor(((now - start) / 1000) * rate);
      for (let k = 0; sent < target && k < 2000; k++) {
        const f = frames[i]!;
        // Fresh client addresses on every pass: third octet of the client address = pass number.
        const toServer = f.readUInt16BE(36) === 80;
        f[toServer ? 28 : 32] = 1 + (loop % 250);
        cap.send(f, f.length);
        sent++;
        bytes += f.length;
        if (++i === frames.length) {
          i = 0;
          loop++;
        }
      }
      setImmediate(tick);
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  cap.close();
  process.stdout.write(`${JSON.stringify({ sent, bytes, seconds: elapsed })}\n`);
}

/** Sniffer role (inside the receiving namespace): full pipeline until stdin says "report". */
async function sniffer(iface: string, crs: boolean): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'sniff-bench-'));
  const config = loadConfig(crs, dir);
  const { createInspectorSet } = await import('../src/policy/inspector.js');
  const { PacketPipeline } = await import('../src/packet/packet-pipeline.js');
  const { openLiveCapture } = await import('../src/packet/live-capture.js');
  let alerts = 0;
  const inspectors = createInspectorSet(config, { logger: pino({ level: 'silent' }), alertSink: () => { alerts++; } });
  const pipeline = new PacketPipeline(config, inspectors, { blocked: () => false });
  let linkType = 0;
  const capture = await openLiveCapture({
    interface: iface, filter: pipeline.endpoints.bpfFilter(), bufferBytes: config.gateway.sniff.bufferBytes, snapLength: 65535,
    onFrame: (frame, t) => pipeline.handleFrame(frame, linkType, t),
  });
  linkType = capture.linkType;
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'report') continue;
    const c = capture.counters();
    const st = pipeline.stats();
    process.stdout.write(`${JSON.stringify({ received: c.received, dropped: c.dropped, dropCounting: capture.dropCounting, requests: st.http.requests, alerts, gaps: st.reassembly.gaps })}\n`);
    capture.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
}

function lineOf(child: ReturnType<typeof spawn>, pred: (l: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let buf = '';
    let err = '';
    const t = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms: ${buf}${err}`)), timeoutMs);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      buf += d;
      for (const l of buf.split('\n')) {
        if (pred(l)) {
          clearTimeout(t);
          resolveLine(l);
          return;
        }
      }
    });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`exited ${code}: ${buf}${err}`)); });
  });
}

async function liveLadder(pcap: string, crs: boolean, seconds: number): Promise<LiveStep[]> {
  const p = `sb${process.pid.toString(36)}`.slice(0, 10);
  const a = `${p}a`;
  const b = `${p}b`;
  const setup = spawnSync('bash', ['-c', `set -e
ip netns add ${a}; ip netns add ${b}
ip link add a0 netns ${a} type veth peer name b0 netns ${b}
ip -n ${a} link set a0 up; ip -n ${b} link set b0 up; ip -n ${a} link set lo up; ip -n ${b} link set lo up`], { encoding: 'utf8' });
  const steps: LiveStep[] = [];
  try {
    if (setup.status !== 0) throw new Error(`namespaces: ${setup.stderr}`);
    for (const rate of [2_000, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000]) {
      const snf = spawn('ip', ['netns', 'exec', b, process.execPath, '--import', 'tsx', SELF, '--role', 'sniffer', '--iface', 'b0',
        '--buffer-mib', String(BUFFER_BYTES / 1024 / 1024), ...(crs ? ['--crs'] : [])],
        { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      try {
        await lineOf(snf, (l) => l === 'ready', 120_000);
        const snd = spawn('ip', ['netns', 'exec', a, process.execPath, '--import', 'tsx', SELF, '--role', 'sender', '--iface', 'a0', '--pcap', pcap,
          '--rate', String(rate), '--seconds', String(seconds)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        const sent = JSON.parse(await lineOf(snd, (l) => l.startsWith('{'), 60_000 + seconds * 1000)) as { sent: number; bytes: number; seconds: number };
        await new Promise((r) => setTimeout(r, 1500)); // let the sniffer drain its ring
        snf.stdin!.write('report\n');
        const got = JSON.parse(await lineOf(snf, (l) => l.startsWith('{'), 30_000)) as { received: number; dropped: number; requests: number; dropCounting: boolean };
        if (!got.dropCounting) throw new Error('kernel drop counting is unavailable: cannot tell a sustained rate');
        const ok = got.dropped === 0 && got.received >= sent.sent && sent.sent >= rate * seconds * 0.95;
        const step: LiveStep = {
          offeredPps: rate, sentPps: sent.sent / sent.seconds, sent: sent.sent, received: got.received, dropped: got.dropped,
          requests: got.requests, mbps: (sent.bytes * 8) / sent.seconds / 1e6, ok,
        };
        steps.push(step);
        process.stderr.write(`[sniff-bench] live ${JSON.stringify(step)}\n`);
        if (!ok) break;
      } finally {
        snf.kill('SIGKILL');
      }
    }
  } finally {
    spawnSync('ip', ['netns', 'del', a]);
    spawnSync('ip', ['netns', 'del', b]);
  }
  return steps;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      requests: { type: 'string' }, crs: { type: 'boolean' }, live: { type: 'boolean' }, seconds: { type: 'string' }, 'no-write': { type: 'boolean' },
      'buffer-mib': { type: 'string' }, role: { type: 'string' }, iface: { type: 'string' }, pcap: { type: 'string' }, rate: { type: 'string' },
    },
  });
  const crs = values.crs === true;
  if (values['buffer-mib'] !== undefined) BUFFER_BYTES = Number(values['buffer-mib']) * 1024 * 1024;
  if (values.role === 'sender') return sender(values.pcap!, values.iface!, Number(values.rate), Number(values.seconds));
  if (values.role === 'sniffer') return sniffer(values.iface!, crs);
  const requests = Number(values.requests ?? 50_000);
  const seconds = Number(values.seconds ?? 3);
  const started = new Date();
  const loadBefore = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const dir = mkdtempSync(join(os.tmpdir(), 'sniff-bench-'));
  try {
    const pcap = join(dir, 'traffic.pcap');
    const gen = generate(pcap, requests, crs);
    process.stderr.write(`[sniff-bench] generated ${requests} requests, ${gen.packets} packets, ${(gen.bytes / 1e6).toFixed(1)} MB\n`);
    const config = loadConfig(crs, dir);
    const { createInspectorSet } = await import('../src/policy/inspector.js');
    let alerts = 0;
    const inspectors = createInspectorSet(config, { logger: pino({ level: 'silent' }), alertSink: () => { alerts++; } });
    // Warm-up pass (JIT, regex caches), then the measured pass.
    await replayPcap(pcap, config, { logger: pino({ level: 'silent' }), inspectors });
    alerts = 0;
    const s = await replayPcap(pcap, config, { logger: pino({ level: 'silent' }), inspectors });
    inspectors.close();
    const sec = s.durationMs / 1000;
    const replay = { requests: s.requests, alerts, rps: s.requests / sec, pps: s.packets / sec, mbps: (s.bytes * 8) / sec / 1e6, seconds: sec };
    process.stderr.write(`[sniff-bench] replay ${JSON.stringify(replay)}\n`);
    // The small rules fire on exactly the attacks; the CRS may also comment on clean requests.
    if (s.requests !== requests || (crs ? alerts < requests / 10 : alerts !== requests / 10)) {
      throw new Error(`replay parsed ${s.requests}/${requests} requests with ${alerts} alerts (expected ${crs ? 'at least ' : ''}${requests / 10}): the benchmark would measure a broken pipeline`);
    }
    const live = values.live ? await liveLadder(pcap, crs, seconds) : null;
    const report = render(replay, live, gen, crs, requests, seconds, started, loadBefore, argv);
    process.stdout.write(report + '\n');
    if (!values['no-write']) writeSection(join(REPO_ROOT, 'docs/BENCHMARKS.md'), 'sniff-bench', report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function render(
  replay: { requests: number; alerts: number; rps: number; pps: number; mbps: number; seconds: number },
  live: LiveStep[] | null, gen: { packets: number; bytes: number }, crs: boolean, requests: number, seconds: number,
  started: Date, loadBefore: string, argv: string[],
): string {
  const m = describeMachine();
  const out: string[] = ['## Sniff benchmark: replay and live capture through the full pipeline', ''];
  const load1 = Number(loadBefore.split(' ')[0]);
  if (load1 > 1.5) out.push(`> **Measured under load**: the 1-minute load average was ${load1.toFixed(2)} when the run started.`, '');
  out.push(`Measured ${started.toISOString().replace('T', ' ').slice(0, 16)} UTC with:`, '', '```sh', `node --import tsx bench/sniff-bench.ts ${argv.join(' ')}`.trim(), '```', '');
  out.push(`- machine: ${m.cpus} cores (nproc), ${m.cpuModel}, ${m.kernel}, ${m.node}; load before: ${loadBefore}, after: ${m.loadAvg}`);
  out.push(`- capture ring (gateway.sniff.bufferBytes): ${BUFFER_BYTES / 1024 / 1024} MiB`);
  out.push(`- policy: ${crs ? 'OWASP CRS PL1' : 'two SecLang rules (ARGS @contains, User-Agent @pm)'}, operationMode simulation`);
  out.push(`- traffic: ${requests} GET requests in keep-alive flows of ${PER_FLOW}, ${RESPONSE_BODY.length}-byte responses, one request in ten an attack; ${gen.packets} packets, ${(gen.bytes / 1e6).toFixed(1)} MB`);
  out.push('', '| replay (in process, one thread) | requests/s | packets/s | Mbit/s of capture | alerts |', '|---|---:|---:|---:|---:|');
  out.push(`| ${replay.requests} requests in ${replay.seconds.toFixed(2)} s | ${replay.rps.toFixed(0)} | ${replay.pps.toFixed(0)} | ${replay.mbps.toFixed(0)} | ${replay.alerts} |`);
  if (live) {
    out.push('', `Live: frames sent with pcap_sendpacket over a veth pair between two network namespaces, ${seconds} s per rate, captured with libpcap (cap) by the sniffer; "ok" = every frame received and 0 kernel drops. The sender shares the machine's cores with the sniffer.`, '');
    out.push('| offered pkt/s | sent pkt/s | Mbit/s | received | kernel drops | requests parsed | ok |', '|---:|---:|---:|---:|---:|---:|---|');
    for (const s of live) {
      out.push(`| ${s.offeredPps} | ${s.sentPps.toFixed(0)} | ${s.mbps.toFixed(1)} | ${s.received} / ${s.sent} | ${s.dropped} | ${s.requests} | ${s.ok ? 'yes' : 'no'} |`);
    }
    const best = [...live].filter((s) => s.ok).pop();
    out.push('', best
      ? `Sustained without drops: **${best.sentPps.toFixed(0)} packets/s, ${best.mbps.toFixed(1)} Mbit/s** (the next rate ${live.find((s) => !s.ok) ? 'dropped or could not be sent' : 'was not tried'}).`
      : 'No rate was sustained without drops.');
  }
  out.push('');
  return out.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`sniff-bench: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}

