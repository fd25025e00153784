import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startOrigin } from './harness.js';

const TOTAL = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** The gateway's RSS may grow by this much while moving 100 MB (see streaming-gateway-child.ts on GC). */
const BOUND = 64 * 1024 * 1024;

type Report = { baseline: number; peak: number; baselineHeap: number; peakHeap: number;
  access: Array<Record<string, unknown>> };

function checkMemory(r: Report, what: string, diagnostic: (m: string) => void, bound = BOUND): void {
  const growth = r.peak - r.baseline;
  diagnostic(`${what}: gateway RSS growth ${(growth / 1048576).toFixed(1)} MB, `
    + `heap growth ${((r.peakHeap - r.baselineHeap) / 1048576).toFixed(1)} MB`);
  assert.ok(growth < bound, `gateway RSS grew by ${(growth / 1048576).toFixed(1)} MB`);
}

function ask<T>(child: ChildProcess, msg: string): Promise<T> {
  const reply = once(child, 'message') as Promise<[T]>;
  child.send(msg);
  return reply.then(([m]) => m);
}

describe('100 MB streamed through the gateway with bounded memory', { timeout: 120_000 }, () => {
  let child: ChildProcess;
  let gatewayPort: number;
  let uploaded = 0;
  const stalled: import('node:http').IncomingMessage[] = [];
  let origin: Awaited<ReturnType<typeof startOrigin>>;

  before(async () => {
    origin = await startOrigin((req, res) => {
      if (req.url === '/stall') {
        stalled.push(req); // never read, never answer
        return;
      }
      if (req.method === 'POST') {
        let n = 0;
        req.on('data', (c: Buffer) => { n += c.length; });
        req.on('end', () => { uploaded = n; res.end(String(n)); });
        return;
      }
      // Download: 100 MB generated on the fly, honouring back-pressure.
      res.writeHead(200, { 'content-length': String(TOTAL) });
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL) {
          const chunk = TOTAL - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, TOTAL - sent);
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    child = fork(fileURLToPath(new URL('./streaming-gateway-child.ts', import.meta.url)), [String(origin.port)],
      { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const [msg] = await once(child, 'message') as [{ port: number }];
    gatewayPort = msg.port;
    // Warm-up (JIT, pools, first connections) so that the measurement sees the steady state.
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: gatewayPort, method: 'POST', path: '/warm', agent: false,
        headers: { host: 'x' } }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      for (let i = 0; i < 64; i++) req.write(CHUNK);
      req.end();
    });
  });
  after(async () => {
    for (const r of stalled) r.socket.destroy();
    child.send('exit');
    await once(child, 'exit');
    await origin.close();
  });

  test('upload: 100 MB generated on the fly arrives complete; gateway RSS growth stays bounded', async (t) => {
    await ask(child, 'reset');
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: gatewayPort, method: 'POST', path: '/upload', agent: false,
        headers: { host: 'x', 'content-length': String(TOTAL) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    assert.equal(status, 200);
    assert.equal(uploaded, TOTAL);
    const r = await ask<Report>(child, 'report');
    checkMemory(r, 'upload', (m) => t.diagnostic(m));
    const line = r.access.find((l) => l.path === '/upload')!;
    assert.equal(line.bytesIn, TOTAL);
  });

  test('download: 100 MB generated on the fly arrives complete; gateway RSS growth stays bounded', async (t) => {
    await ask(child, 'reset');
    const received = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: gatewayPort, path: '/download', agent: false, headers: { host: 'x' } }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => { n += c.length; });
        res.on('end', () => resolve(res.complete ? n : -1));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(received, TOTAL);
    const r = await ask<Report>(child, 'report');
    checkMemory(r, 'download', (m) => t.diagnostic(m));
    assert.equal(r.access.find((l) => l.path === '/download')!.bytesOut, TOTAL);
  });

  test('a stalled download reader: the gateway holds back instead of pulling the 100 MB', async (t) => {
    await ask(child, 'reset');
    // Read nothing for a while: if the gateway ignored back-pressure it would pull the whole 100 MB.
    const req = httpRequest({ host: '127.0.0.1', port: gatewayPort, path: '/download', agent: false, headers: { host: 'x' } });
    const [res] = await once(req.end(), 'response') as [import('node:http').IncomingMessage];
    res.pause();
    await new Promise((r) => setTimeout(r, 1500));
    checkMemory(await ask<Report>(child, 'report'), 'stalled reader', (m) => t.diagnostic(m), 16 * 1024 * 1024);
    res.destroy();
  });

  test('a stalled upstream: the gateway stops reading the upload instead of buffering it', async (t) => {
    await ask(child, 'reset');
    const req = httpRequest({ host: '127.0.0.1', port: gatewayPort, method: 'POST', path: '/stall', agent: false,
      headers: { host: 'x', 'content-length': String(TOTAL) } });
    req.on('error', () => undefined);
    let accepted = 0;
    let stop = false;
    const pump = (): void => {
      while (!stop && accepted < TOTAL) {
        accepted += CHUNK.length;
        if (!req.write(CHUNK)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    checkMemory(await ask<Report>(child, 'report'), 'stalled upstream', (m) => t.diagnostic(m), 16 * 1024 * 1024);
    t.diagnostic(`the client got ${(accepted / 1048576).toFixed(1)} MB into socket buffers before back-pressure held it`);
    assert.ok(accepted < TOTAL / 2, 'back-pressure reached the client');
    req.destroy();
  });
});
