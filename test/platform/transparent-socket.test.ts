/**
 * Transparent sockets on loopback (real sockets, real TLS). Non-local sources through a bridge are
 * covered by the netns lab (test/lab/); here the sources are extra loopback addresses (127.0.0.0/8 is
 * all local) and a non-local bind proves that IP_TRANSPARENT is really set.
 * Needs CAP_NET_ADMIN: without it these tests are skipped (CI runs as root, so they run there).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { effectiveCapabilities, hasCapability } from '../../src/platform/capabilities.js';
import { PlatformError } from '../../src/platform/platform-errors.js';
import {
  closeUnusedFd,
  connectTransparent,
  listenTransparent,
  openTransparentListener,
  transparentConnector,
} from '../../src/platform/transparent-socket.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const caps = effectiveCapabilities();
const skip = caps === null || !hasCapability(caps, 'CAP_NET_ADMIN') ? 'needs CAP_NET_ADMIN (run as root)' : false;

function listenOnFd(server: net.Server, fd: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** A server that answers each connection with the peer it saw, then closes. */
function peerReporter(): net.Server {
  return net.createServer((s) => s.end(`${s.remoteAddress}|${s.localAddress}:${s.localPort}`));
}

async function freePort(host: string): Promise<number> {
  const probe = net.createServer().listen(0, host);
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  probe.close();
  await once(probe, 'close');
  return port;
}

async function readAll(s: net.Socket): Promise<string> {
  let out = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => (out += d));
  await once(s, 'end');
  return out;
}

function assertPlatformError(err: unknown, code: string, errnoName?: string): true {
  assert.ok(err instanceof PlatformError, `expected PlatformError, got ${String(err)}`);
  assert.equal(err.code, code);
  if (errnoName !== undefined) assert.equal(err.errnoName, errnoName);
  return true;
}

describe('openTransparentListener', { skip }, () => {
  it('serves net.Server through the fd; the listener binds a NON-local address (only IP_TRANSPARENT allows that)', async () => {
    // 192.0.2.0/24 (TEST-NET-1) is not configured here: a plain socket gets EADDRNOTAVAIL on bind
    const plain = net.createServer();
    const plainErr = await new Promise<NodeJS.ErrnoException>((resolve) => {
      plain.once('error', resolve);
      plain.listen(0, '192.0.2.77');
    });
    assert.equal(plainErr.code, 'EADDRNOTAVAIL');

    const fd = openTransparentListener('192.0.2.77', 0);
    const server = peerReporter();
    const port = await listenOnFd(server, fd);
    assert.ok(port > 0);
    assert.deepEqual(server.address(), { address: '192.0.2.77', family: 'IPv4', port });
    server.close();

    const lfd = openTransparentListener('127.0.0.1', 0);
    const local = peerReporter();
    const lport = await listenOnFd(local, lfd);
    const reply = await readAll(net.connect(lport, '127.0.0.1'));
    assert.equal(reply, `127.0.0.1|127.0.0.1:${lport}`);
    local.close();
  });

  it('serves tls.Server through the fd', async () => {
    const pki = createTestPki();
    try {
      const cert = pki.server('srv', ['lab.test'], ['127.0.0.1']);
      const server = tls.createServer({ key: cert.key, cert: cert.cert }, (s) => s.end('tls-ok'));
      const port = await listenOnFd(server, openTransparentListener('127.0.0.1', 0));
      const client = tls.connect({ host: '127.0.0.1', port, ca: pki.ca.cert, servername: 'lab.test' });
      assert.equal(await readAll(client), 'tls-ok');
      server.close();
    } finally {
      pki.cleanup();
    }
  });

  it('IPv6: IPV6_TRANSPARENT listener on ::1, v6-only', async () => {
    const fd = openTransparentListener('::1', 0);
    const server = peerReporter();
    const port = await listenOnFd(server, fd);
    assert.equal(await readAll(net.connect(port, '::1')), `::1|::1:${port}`);
    server.close();
    // v6-only: a [::] listener leaves the IPv4 side of the same port free for the 0.0.0.0 listener
    const any6 = peerReporter();
    const p6 = await listenOnFd(any6, openTransparentListener('::', 0));
    const any4 = peerReporter();
    assert.equal(await listenOnFd(any4, openTransparentListener('0.0.0.0', p6)), p6);
    any6.close();
    any4.close();
  });

  it('SO_REUSEPORT lets two workers listen on one port; without it the second bind is EADDRINUSE', async () => {
    const a = net.createServer();
    const port = await listenOnFd(a, openTransparentListener('127.0.0.1', 0, { reusePort: true }));
    const b = net.createServer();
    assert.equal(await listenOnFd(b, openTransparentListener('127.0.0.1', port, { reusePort: true })), port);
    assert.throws(() => openTransparentListener('127.0.0.1', port), (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'EADDRINUSE'));
    a.close();
    b.close();
  });

  it('listenTransparent: the daemon hook shape, with http.Server; errors reject', async () => {
    const server = http.createServer((req, res) => res.end(`${req.socket.localAddress}:${req.socket.localPort}`));
    await listenTransparent(server, { address: '127.0.0.1', port: 0 });
    const port = (server.address() as net.AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), `127.0.0.1:${port}`);
    const second = http.createServer();
    await assert.rejects(listenTransparent(second, { address: '127.0.0.1', port }), (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'EADDRINUSE'));
    server.close();
  });

  it('rejects bad input with a typed error', () => {
    assert.throws(() => openTransparentListener('localhost', 80), (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'EINVAL'));
    assert.throws(() => openTransparentListener('10.0.0.1', 70000), (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'EINVAL'));
    assert.throws(() => openTransparentListener('fe80::1%lo', 80), (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'EINVAL'));
  });
});

describe('connectTransparent', { skip }, () => {
  let server: net.Server;
  let port: number;
  before(async () => {
    server = peerReporter();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  it('connects from the given source address; the server sees it', async () => {
    const s = await connectTransparent({ localAddress: '127.0.0.5', remoteAddress: '127.0.0.1', remotePort: port });
    assert.equal(s.localAddress, '127.0.0.5');
    assert.equal(s.remotePort, port);
    assert.equal(await readAll(s), `127.0.0.5|127.0.0.1:${port}`);
  });

  it('keeps the requested source port', async () => {
    const probe = net.createServer().listen(0, '127.0.0.6');
    await once(probe, 'listening');
    const freePort = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const s = await connectTransparent({ localAddress: '127.0.0.6', localPort: freePort, remoteAddress: '127.0.0.1', remotePort: port });
    assert.equal(s.localPort, freePort);
    await readAll(s);
  });

  it('300 concurrent connects, each delivering the first bytes intact (no read-before-connect race)', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const echoPort = (echo.address() as net.AddressInfo).port;
    const results = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const s = await connectTransparent({ localAddress: `127.0.1.${(i % 250) + 1}`, remoteAddress: '127.0.0.1', remotePort: echoPort });
        s.end(`hello-${i}`);
        return (await readAll(s)) === `hello-${i}`;
      }),
    );
    assert.equal(results.filter(Boolean).length, 300);
    echo.close();
  });

  it('ECONNREFUSED becomes ERR_TRANSPARENT_SOCKET with errnoName', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const closedPort = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    await assert.rejects(
      connectTransparent({ localAddress: '127.0.0.5', remoteAddress: '127.0.0.1', remotePort: closedPort }),
      (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'ECONNREFUSED'),
    );
  });

  it('times out (ETIMEDOUT) when the server never completes the handshake', async () => {
    // a listener with backlog 0 that is never accepted from: once its accept queue is full the kernel
    // drops further SYNs, so those connects hang until our timeout
    const rawPort = await freePort('127.0.0.1');
    const rawFd = openTransparentListener('127.0.0.1', rawPort, { backlog: 0 });
    const outcomes: string[] = [];
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        try {
          sockets.push(await connectTransparent({ localAddress: '127.0.0.9', remoteAddress: '127.0.0.1', remotePort: rawPort, timeoutMs: 300 }));
          outcomes.push('connected');
        } catch (e) {
          outcomes.push((e as PlatformError).errnoName ?? 'none');
        }
      }
    } finally {
      for (const s of sockets) s.destroy();
      closeUnusedFd(rawFd);
    }
    assert.ok(outcomes.includes('connected'), `outcomes: ${outcomes.join(',')}`);
    assert.ok(outcomes.includes('ETIMEDOUT'), `outcomes: ${outcomes.join(',')}`);
  });

  it('rejects bad input with a typed error', async () => {
    await assert.rejects(
      connectTransparent({ localAddress: '127.0.0.5', remoteAddress: '::1', remotePort: port }),
      (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'EAFNOSUPPORT'),
    );
    await assert.rejects(
      connectTransparent({ localAddress: 'client', remoteAddress: '127.0.0.1', remotePort: port }),
      (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'EINVAL'),
    );
    await assert.rejects(
      connectTransparent({ localAddress: '127.0.0.5', remoteAddress: '127.0.0.1', remotePort: -1 }),
      (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'EINVAL'),
    );
  });

  it('IPv6 source and destination', async () => {
    const s6 = peerReporter();
    s6.listen(0, '::1');
    await once(s6, 'listening');
    const p6 = (s6.address() as net.AddressInfo).port;
    const s = await connectTransparent({ localAddress: '::1', remoteAddress: '::1', remotePort: p6 });
    assert.equal(await readAll(s), `::1|::1:${p6}`);
    s6.close();
  });
});

describe('transparentConnector (undici connect option)', { skip }, () => {
  let pki: TestPki;
  before(() => {
    pki = createTestPki();
  });
  after(() => pki.cleanup());

  it('http: the server sees the connector source address', async () => {
    const server = http.createServer((req, res) => res.end(req.socket.remoteAddress));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const pool = new Pool(`http://127.0.0.1:${port}`, { connect: transparentConnector({ localAddress: '127.0.0.42' }) });
    const r1 = await pool.request({ path: '/', method: 'GET' });
    assert.equal(await r1.body.text(), '127.0.0.42');
    const r2 = await pool.request({ path: '/again', method: 'GET' });
    assert.equal(await r2.body.text(), '127.0.0.42');
    await pool.close();
    server.close();
  });

  it('https: TLS over the transparent socket, certificate verified', async () => {
    const cert = pki.server('upstream', ['upstream.test'], ['127.0.0.1']);
    const { createServer } = await import('node:https');
    const server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => res.end(`tls:${req.socket.remoteAddress}`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const pool = new Pool(`https://127.0.0.1:${port}`, {
      connect: transparentConnector({ localAddress: '127.0.0.43', tls: { ca: pki.ca.cert, servername: 'upstream.test' } }),
    });
    const r = await pool.request({ path: '/', method: 'GET' });
    assert.equal(await r.body.text(), 'tls:127.0.0.43');
    await pool.close();
    server.close();
    // an untrusted certificate is refused
    const bad = new Pool(`https://127.0.0.1:${port}`, { connect: transparentConnector({ localAddress: '127.0.0.43', tls: {} }) });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    await assert.rejects(bad.request({ path: '/', method: 'GET' }), /certificate/i);
    await bad.close();
    server.close();
  });

  it('connect failure reaches undici as a typed error', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const closedPort = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const pool = new Pool(`http://127.0.0.1:${closedPort}`, { connect: transparentConnector({ localAddress: '127.0.0.44' }) });
    await assert.rejects(pool.request({ path: '/', method: 'GET' }), (e) => assertPlatformError(e, 'ERR_TRANSPARENT_SOCKET', 'ECONNREFUSED'));
    await pool.close();
  });
});

describe('capability errors (child process without capabilities, via setpriv)', { skip }, () => {
  const child = join(here, 'fixtures', 'capability-probe.ts');
  const setprivOk = spawnSync('setpriv', ['--version']).status === 0;

  function probe(caps: string[], args: string[]): { code: string; out: string } {
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', ...caps, process.execPath, '--import', 'tsx', child, ...args],
      { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, HOME: '/tmp' }, timeout: 20_000 },
    );
    const out = `${r.stdout}${r.stderr}`;
    const line = r.stdout.trim().split('\n').pop() ?? '';
    return { code: line, out };
  }

  it('no capabilities: IP_TRANSPARENT listener fails with ERR_CAP_NET_ADMIN (checked up front and by the socket call)', { skip: setprivOk ? false : 'setpriv missing' }, () => {
    const r = probe(['--inh-caps=-all'], ['listen', '127.0.0.1', '0']);
    assert.equal(r.code, 'ERR_CAP_NET_ADMIN ERR_CAP_NET_ADMIN', r.out);
  });

  it('no capabilities: connectTransparent fails with ERR_CAP_NET_ADMIN', { skip: setprivOk ? false : 'setpriv missing' }, () => {
    const r = probe(['--inh-caps=-all'], ['connect', '127.0.0.5', '127.0.0.1']);
    assert.equal(r.code, 'ERR_CAP_NET_ADMIN', r.out);
  });

  it('CAP_NET_ADMIN only: port 80 fails with ERR_CAP_NET_BIND_SERVICE, port 0 works', { skip: setprivOk ? false : 'setpriv missing' }, () => {
    const capsArgs = ['--inh-caps=-all,+net_admin', '--ambient-caps=+net_admin'];
    assert.equal(probe(capsArgs, ['listen', '127.0.0.1', '80']).code, 'ERR_CAP_NET_BIND_SERVICE ERR_CAP_NET_BIND_SERVICE');
    assert.equal(probe(capsArgs, ['listen', '127.0.0.1', '0']).code, 'OK OK');
  });
});
