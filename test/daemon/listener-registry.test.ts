import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { DaemonError } from '../../src/daemon/errors.js';
import { ListenerRegistry, type ApplyOptions } from '../../src/daemon/listener-registry.js';
import type { ListenerSpec, TlsListenerOptions } from '../../src/daemon/runtime.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { freePort, get } from './daemon-fixtures.js';

const logger = pino({ level: 'silent' });

const options: ApplyOptions = {
  serverOptions: { maxHeaderSize: 16_384, headersTimeout: 60_000, keepAliveTimeout: 10_000 },
  clientErrorHandler: null,
  describe: (spec) => `test config entry for ${spec.key}`,
  drainGraceMs: 2000,
};

/** A spec answering `${tag} ${url}`; `delayMs` keeps a request in flight. */
function plain(port: number, tag: string, delayMs = 0, address = '127.0.0.1'): ListenerSpec {
  return {
    key: `${address}:${port}`,
    address,
    port,
    tls: null,
    transparent: false,
    onRequest(req, res) {
      req.resume();
      const answer = () => res.end(`${tag} ${req.url}`);
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    },
    onUpgrade(_req, socket) {
      socket.destroy();
    },
  };
}

describe('ListenerRegistry', () => {
  test('a reload swaps the handler under an idle keep-alive connection, which survives', async () => {
    const port = await freePort();
    const registry = new ListenerRegistry({ logger });
    await registry.apply([plain(port, 'old')], options);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(port, '/a', agent);
      assert.equal(first.body, 'old /a');
      await registry.apply([plain(port, 'new')], options);
      const second = await get(port, '/b', agent);
      assert.equal(second.body, 'new /b');
      assert.equal(second.reusedSocket, true, 'the keep-alive connection opened before the reload was reused');
      assert.deepEqual(registry.list().map((l) => [l.key, l.requestsServed]), [[`127.0.0.1:${port}`, 2]]);
    } finally {
      agent.destroy();
      await registry.close(100);
    }
  });

  test('added keys start listening; removed keys stop accepting while their in-flight request finishes', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const registry = new ListenerRegistry({ logger });
    await registry.apply([plain(p1, 'one', 400)], options);
    try {
      const inFlight = get(p1, '/slow');
      await new Promise((r) => setTimeout(r, 100));
      await registry.apply([plain(p2, 'two')], options);
      assert.equal((await get(p2, '/x')).body, 'two /x');
      await assert.rejects(get(p1, '/after'), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
      assert.equal((await inFlight).body, 'one /slow', 'the request in flight on the removed listener completed');
      assert.deepEqual(registry.list().map((l) => l.key), [`127.0.0.1:${p2}`]);
    } finally {
      await registry.close(100);
    }
  });

  test('EADDRINUSE is a typed error naming address:port and the config entry; nothing changes', async () => {
    const [kept, added, busy] = [await freePort(), await freePort(), await freePort()];
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(busy, '127.0.0.1', r));
    const registry = new ListenerRegistry({ logger });
    try {
      await registry.apply([plain(kept, 'v1')], options);
      await assert.rejects(registry.apply([plain(kept, 'v2'), plain(added, 'v2'), plain(busy, 'v2')], options), (err: unknown) => {
        assert.ok(err instanceof DaemonError);
        assert.equal(err.code, 'ERR_LISTEN_ADDRESS_IN_USE');
        assert.match(err.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busy}: the address is already in use`));
        assert.match(err.message, new RegExp(`asked for by test config entry for 127\\.0\\.0\\.1:${busy}`));
        return true;
      });
      assert.equal((await get(kept, '/')).body, 'v1 /', 'the running handler stays');
      await assert.rejects(get(added, '/'), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
      assert.deepEqual(registry.list().map((l) => l.key), [`127.0.0.1:${kept}`]);
    } finally {
      blocker.close();
      await registry.close(100);
    }
  });

  test('an address not on this host is ERR_LISTEN_ADDRESS_NOT_AVAILABLE', async () => {
    const registry = new ListenerRegistry({ logger });
    // TEST-NET-1 (RFC 5737) is never configured on a test machine.
    await assert.rejects(registry.apply([plain(8080, 'x', 0, '192.0.2.77')], options), (err: unknown) => {
      assert.ok(err instanceof DaemonError);
      assert.equal(err.code, 'ERR_LISTEN_ADDRESS_NOT_AVAILABLE');
      assert.match(err.message, /cannot listen on 192\.0\.2\.77:8080: the address is not configured on this host/);
      return true;
    });
    assert.deepEqual(registry.list(), []);
  });

  test('transparent listeners need the bridge platform: ERR_MODE_NOT_AVAILABLE', async () => {
    const registry = new ListenerRegistry({ logger });
    const spec = { ...plain(await freePort(), 'x'), transparent: true };
    await assert.rejects(registry.apply([spec], options), (err: unknown) => err instanceof DaemonError && err.code === 'ERR_MODE_NOT_AVAILABLE');
    assert.deepEqual(registry.list(), []);
  });

  test('a handler that throws answers 500 and the listener keeps serving', async () => {
    const port = await freePort();
    const registry = new ListenerRegistry({ logger });
    const broken: ListenerSpec = {
      ...plain(port, 'x'),
      onRequest(req, res) {
        if (req.url === '/boom') throw new Error('handler bug');
        res.end('fine');
      },
    };
    await registry.apply([broken], options);
    try {
      assert.equal((await get(port, '/boom')).status, 500);
      assert.equal((await get(port, '/ok')).body, 'fine');
    } finally {
      await registry.close(100);
    }
  });

  test('malformed HTTP gets 400 from the default clientError answer', async () => {
    const port = await freePort();
    const registry = new ListenerRegistry({ logger });
    await registry.apply([plain(port, 'x')], options);
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
        let data = '';
        s.on('data', (d) => (data += d));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 400 Bad Request/);
    } finally {
      await registry.close(100);
    }
  });
});

describe('ListenerRegistry with TLS', () => {
  let pki: TestPki;
  before(() => {
    pki = createTestPki();
  });
  after(() => pki.cleanup());

  function tlsSpec(port: number, tag: string, certName: string, requestCert = false): ListenerSpec {
    const cert = pki.server(certName, [`${certName}.test`]);
    const contextOptions = { key: cert.key, cert: cert.cert, ca: pki.ca.cert };
    const context = tls.createSecureContext(contextOptions);
    const other = pki.server(`${certName}-sni`, [`sni.${certName}.test`]);
    const sniContext = tls.createSecureContext({ key: other.key, cert: other.cert });
    const tlsOptions: TlsListenerOptions = {
      defaultContext: context,
      defaultContextOptions: contextOptions,
      contextFor: (name) => (name === `sni.${certName}.test` ? sniContext : context),
      requestCert,
      rejectUnauthorized: requestCert,
    };
    return { ...plain(port, tag), tls: tlsOptions };
  }

  function peerCn(port: number, servername?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: pki.ca.cert, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
        const cn = s.getPeerCertificate().subject.CN;
        s.end();
        resolve(String(cn));
      });
      s.on('error', reject);
    });
  }

  test('default context (no SNI), SNI selection, and a reload that changes certificates without reopening', async () => {
    const port = await freePort();
    const registry = new ListenerRegistry({ logger });
    try {
      await registry.apply([tlsSpec(port, 'a', 'alpha')], options);
      assert.equal(await peerCn(port), 'alpha.test');
      assert.equal(await peerCn(port, 'sni.alpha.test'), 'sni.alpha.test');
      // Hold a connection open across the reload: it must survive (the listener is not reopened).
      const held = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      await new Promise<void>((r, j) => held.once('secureConnect', () => r()).once('error', j));
      await registry.apply([tlsSpec(port, 'b', 'beta')], options);
      assert.equal(await peerCn(port), 'beta.test');
      assert.equal(await peerCn(port, 'sni.beta.test'), 'sni.beta.test');
      held.write(`GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const text = await new Promise<string>((resolve) => {
        let d = '';
        held.on('data', (c) => (d += c));
        held.on('end', () => resolve(d));
      });
      assert.match(text, /b \/held$/, 'the connection opened before the reload is served by the new handler');
    } finally {
      await registry.close(100);
    }
  });

  test('a runtime that gives only the prebuilt default context still serves clients without SNI', async () => {
    const port = await freePort();
    const registry = new ListenerRegistry({ logger });
    try {
      const spec = tlsSpec(port, 'a', 'delta');
      const { defaultContextOptions: _omitted, ...withoutOptions } = spec.tls!;
      await registry.apply([{ ...spec, tls: withoutOptions }], options);
      assert.equal(await peerCn(port), 'delta.test');
      const next = tlsSpec(port, 'a', 'epsilon');
      const { defaultContextOptions: _omitted2, ...nextWithout } = next.tls!;
      await registry.apply([{ ...next, tls: nextWithout }], options);
      assert.equal(await peerCn(port), 'epsilon.test');
    } finally {
      await registry.close(100);
    }
  });

  test('changing requestCert reopens the listener with the new shape', async () => {
    const port = await freePort();
    const registry = new ListenerRegistry({ logger });
    try {
      await registry.apply([tlsSpec(port, 'a', 'gamma')], options);
      assert.equal(await peerCn(port), 'gamma.test');
      await registry.apply([tlsSpec(port, 'a', 'gamma', true)], options);
      // Without a client certificate the handshake is now refused.
      await assert.rejects(
        new Promise<void>((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
          s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
          s.on('data', () => resolve());
          s.on('error', reject);
          s.on('end', () => reject(new Error('closed without answering')));
        }),
      );
      const client = pki.client('client-1');
      const body = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, key: client.key, cert: client.cert }, () =>
          s.write('GET /mtls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        );
        let d = '';
        s.on('data', (c) => (d += c));
        s.on('end', () => resolve(d));
        s.on('error', reject);
      });
      assert.match(body, /a \/mtls$/);
    } finally {
      await registry.close(100);
    }
  });
});
