/** Pools toward HTTPS servers: balanced traffic and HTTPS health checks, and a server whose certificate fails. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestPki, type Pem } from '../helpers/certs.js';
import { load, member, poolConfig, startPoolGateway, tally, waitFor } from './pool-gateway.js';

async function httpsOrigin(name: string, pem: Pem): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: pem.cert, key: pem.key }, (req, res) => {
    res.writeHead(req.url === '/healthz' ? 204 : 200, { 'content-length': req.url === '/healthz' ? 0 : name.length });
    res.end(req.url === '/healthz' ? undefined : name);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

test('HTTPS pool: checks over TLS; a server whose certificate is not trusted is down and gets nothing', async () => {
  const pki = createTestPki();
  const other = createTestPki('Some Other CA');
  const good = [await httpsOrigin('a', pki.server('a', [], ['127.0.0.1'])), await httpsOrigin('b', pki.server('b', [], ['127.0.0.1']))];
  const rogue = await httpsOrigin('rogue', other.server('rogue', [], ['127.0.0.1']));
  const gw = await startPoolGateway(poolConfig([...good, rogue].map((o) => member(o.port)), {
    healthCheck: { url: '/healthz', intervalMs: 150, timeoutMs: 150, expectStatus: { min: 204, max: 204 }, rise: 1, fall: 2, host: null },
  }), 1000, { encrypt: true, validateServerCertificate: true, ca: pki.ca.cert });
  try {
    await waitFor(() => gw.logs.lines.some((l) => l.event === 'server-down' && l.server === `127.0.0.1:${rogue.port}`), 3000, 'rogue down');
    assert.deepEqual(tally(await load(gw.port, 40, 4)), { a: 20, b: 20 });
    const entries = gw.healthLog.entries();
    const ofA = entries.find((e) => e.server === `127.0.0.1:${good[0]!.port}`)!;
    assert.equal(ofA.url, `https://127.0.0.1:${good[0]!.port}/healthz`);
    assert.equal(ofA.status, 204);
    assert.ok(ofA.ok);
    const ofRogue = entries.find((e) => e.server === `127.0.0.1:${rogue.port}`)!;
    assert.equal(ofRogue.status, null);
    assert.match(ofRogue.error ?? '', /CERT|SELF_SIGNED|UNABLE_TO/, ofRogue.error ?? 'no error');
  } finally {
    await gw.close();
    for (const o of [...good, rogue]) { o.server.closeAllConnections(); o.server.close(); }
    pki.cleanup();
    other.cleanup();
  }
});
