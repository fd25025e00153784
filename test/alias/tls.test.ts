import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpsRequest, createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { createTestPki, type Pem, type TestPki } from '../helpers/certs.js';
import {
  alias, certificate, clientAuth, gatewayConfig, outbound, reverseProxy, serverGroup, service, site,
} from '../pipeline/config-builder.js';
import { eventually, readResponse, startEchoOrigin, startGateway, type Gateway, type SimpleResponse } from '../pipeline/harness.js';

interface TlsResult extends SimpleResponse {
  readonly peer: PeerCertificate;
  readonly protocol: string | null;
}

function httpsGet(port: number, options: { servername?: string; host?: string; client?: Pem; ca: string;
  maxVersion?: 'TLSv1.2' | 'TLSv1.3'; path?: string }): Promise<TlsResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path: options.path ?? '/', agent: false, ca: options.ca,
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
      headers: { host: options.host ?? options.servername ?? 'localhost' },
      ...(options.client !== undefined ? { cert: options.client.cert, key: options.client.key } : {}),
      ...(options.maxVersion !== undefined ? { maxVersion: options.maxVersion } : {}),
      // We check which certificate was presented, not whether its name matches what we asked for.
      checkServerIdentity: () => undefined,
    }, (res) => {
      const socket = res.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const protocol = socket.getProtocol();
      readResponse(res).then((r) => resolve({ ...r, peer, protocol }), reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function startHttpsOrigin(pem: Pem): Promise<{ server: HttpsServer; port: number; seen: number }> {
  const state = { server: null as unknown as HttpsServer, port: 0, seen: 0 };
  state.server = createHttpsServer({ cert: pem.cert, key: pem.key }, (req, res) => {
    state.seen++;
    res.end(`secure origin saw ${req.url}`);
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

describe('TLS termination, SNI and client certificates', () => {
  let pki: TestPki;
  let otherPki: TestPki;
  let origin: Awaited<ReturnType<typeof startEchoOrigin>>;
  let gw: Gateway;

  before(async () => {
    pki = createTestPki();
    otherPki = createTestPki('Other CA');
    origin = await startEchoOrigin('origin');
    const shopCert = certificate('shop-cert', pki.server('shop', ['shop.example.com']), ['shop.example.com']);
    const blogCert = certificate('blog-cert', pki.server('blog', ['*.blog.test']), ['*.blog.test']);
    const adminCert = certificate('admin-cert', pki.server('admin', ['admin.example.com']), ['admin.example.com']);
    const vip = alias('vip1');
    const rule = outbound({ priority: 10, serverPort: origin.port });
    const shop = service('shop', [reverseProxy(vip, 8443, [rule], shopCert)]);
    const blog = service('blog', [reverseProxy(vip, 8443, [outbound({ priority: 20, serverPort: origin.port })], blogCert)]);
    const admin = service('admin', [reverseProxy(vip, 9443, [rule], adminCert)], { clientAuth: clientAuth(pki.ca) });
    const config = gatewayConfig([site('s', [serverGroup('g', [shop, blog, admin])])], { aliases: [vip] });
    gw = await startGateway(createAliasRuntime, config);
  });
  after(async () => {
    await gw.close();
    await origin.close();
    pki.cleanup();
    otherPki.cleanup();
  });

  test('SNI selects the certificate by exact name', async () => {
    const res = await httpsGet(gw.port(8443), { servername: 'shop.example.com', ca: pki.ca.cert });
    assert.equal(res.status, 200);
    assert.equal(res.peer.subject.CN, 'shop.example.com');
  });

  test('SNI selects the wildcard certificate for a subdomain', async () => {
    const res = await httpsGet(gw.port(8443), { servername: 'www.blog.test', ca: pki.ca.cert });
    assert.equal(res.status, 200);
    assert.equal(res.peer.subject.CN, '*.blog.test');
    assert.match(res.peer.subjectaltname ?? '', /DNS:\*\.blog\.test/);
  });

  test('unknown SNI and no SNI get the first rule\'s certificate', async () => {
    const unknown = await httpsGet(gw.port(8443), { servername: 'nobody.test', ca: pki.ca.cert });
    assert.equal(unknown.peer.subject.CN, 'shop.example.com');
    const none = await httpsGet(gw.port(8443), { ca: pki.ca.cert, host: 'x' });
    assert.equal(none.peer.subject.CN, 'shop.example.com');
    assert.equal(none.status, 200);
  });

  test('TLS 1.3 is negotiated by default and TLS 1.2 is accepted', async () => {
    const v13 = await httpsGet(gw.port(8443), { servername: 'shop.example.com', ca: pki.ca.cert });
    assert.equal(v13.protocol, 'TLSv1.3');
    const v12 = await httpsGet(gw.port(8443), { servername: 'shop.example.com', ca: pki.ca.cert, maxVersion: 'TLSv1.2' });
    assert.equal(v12.protocol, 'TLSv1.2');
    assert.equal(v12.status, 200);
  });

  test('the upstream sees X-Forwarded-Proto https', async () => {
    const res = await httpsGet(gw.port(8443), { servername: 'shop.example.com', ca: pki.ca.cert });
    assert.equal(JSON.parse(res.body).headers['x-forwarded-proto'], 'https');
  });

  test('client certificate from the configured CA is accepted', async () => {
    const res = await httpsGet(gw.port(9443), { servername: 'admin.example.com', ca: pki.ca.cert, client: pki.client('alice') });
    assert.equal(res.status, 200);
    assert.equal(res.peer.subject.CN, 'admin.example.com');
  });

  test('missing client certificate is rejected in the handshake', async () => {
    const seenBefore = origin.seen.length;
    await assert.rejects(httpsGet(gw.port(9443), { servername: 'admin.example.com', ca: pki.ca.cert }));
    assert.equal(origin.seen.length, seenBefore);
  });

  test('client certificate from another CA is rejected', async () => {
    const seenBefore = origin.seen.length;
    await assert.rejects(httpsGet(gw.port(9443), { servername: 'admin.example.com', ca: pki.ca.cert,
      client: otherPki.client('mallory') }));
    assert.equal(origin.seen.length, seenBefore);
  });
});

describe('encrypt to the server', () => {
  let pki: TestPki;
  let trusted: Awaited<ReturnType<typeof startHttpsOrigin>>;
  let selfSigned: Awaited<ReturnType<typeof startHttpsOrigin>>;
  let gw: Gateway;

  before(async () => {
    pki = createTestPki();
    trusted = await startHttpsOrigin(pki.server('origin', ['origin.internal'], ['127.0.0.1']));
    selfSigned = await startHttpsOrigin(pki.selfSigned('rogue', ['origin.internal']));
    const vip = alias('vip1');
    const svc = service('web', [reverseProxy(vip, 8080, [
      outbound({ priority: 10, urlPrefix: '/valid', serverPort: trusted.port, encrypt: true, ca: pki.ca.cert }),
      outbound({ priority: 20, urlPrefix: '/byname', serverPort: trusted.port, encrypt: true, ca: pki.ca.cert,
        serverName: 'origin.internal' }),
      outbound({ priority: 30, urlPrefix: '/strict', serverPort: selfSigned.port, encrypt: true, ca: pki.ca.cert }),
      outbound({ priority: 40, urlPrefix: '/lenient', serverPort: selfSigned.port, encrypt: true,
        validateServerCertificate: false }),
      outbound({ priority: 50, urlPrefix: '/wrongname', serverPort: trusted.port, encrypt: true, ca: pki.ca.cert,
        serverName: 'not-the-origin.internal' }),
    ])]);
    gw = await startGateway(createAliasRuntime, gatewayConfig([site('s', [serverGroup('g', [svc])])], { aliases: [vip] }));
  });
  after(async () => {
    await gw.close();
    trusted.server.close();
    selfSigned.server.close();
    pki.cleanup();
  });

  const plainGet = async (path: string) => {
    const { get } = await import('../pipeline/harness.js');
    return get(gw.port(8080), path, { host: 'site.test' });
  };

  test('a server certificate issued by the configured CA validates (IP SAN and SNI name)', async () => {
    const res = await plainGet('/valid/a');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'secure origin saw /valid/a');
    const byName = await plainGet('/byname/b');
    assert.equal(byName.status, 200);
  });

  test('a self-signed server certificate fails validation: 502 with the reason logged', async () => {
    const seenBefore = selfSigned.seen;
    const res = await plainGet('/strict/x');
    assert.equal(res.status, 502);
    assert.match(res.body, /certificate/);
    assert.equal(selfSigned.seen, seenBefore);
    await eventually(() => gw.logs.access().some((l) => l.path === '/strict/x'));
    assert.equal(gw.logs.access().find((l) => l.path === '/strict/x')!.error, 'upstream-certificate-invalid');
  });

  test('a certificate for another name fails validation', async () => {
    const res = await plainGet('/wrongname/x');
    assert.equal(res.status, 502);
    await eventually(() => gw.logs.access().some((l) => l.path === '/wrongname/x'));
    assert.equal(gw.logs.access().find((l) => l.path === '/wrongname/x')!.error, 'upstream-certificate-invalid');
  });

  test('without validation a self-signed server is accepted', async () => {
    const res = await plainGet('/lenient/y');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'secure origin saw /lenient/y');
  });
});

describe('client certificates on a listener shared with a service that needs none', () => {
  let pki: TestPki;
  let origin: Awaited<ReturnType<typeof startEchoOrigin>>;
  let gw: Gateway;

  before(async () => {
    pki = createTestPki();
    origin = await startEchoOrigin('o');
    const vip = alias('vip1');
    const adminCert = certificate('admin', pki.server('admin', ['admin.example.com']), ['admin.example.com']);
    const wwwCert = certificate('www', pki.server('www', ['www.example.com']), ['www.example.com']);
    const admin = service('admin', [reverseProxy(vip, 8443, [outbound({ priority: 10, host: 'admin.example.com', serverPort: origin.port })], adminCert)],
      { clientAuth: clientAuth(pki.ca) });
    const www = service('www', [reverseProxy(vip, 8443, [outbound({ priority: 20, host: 'www.example.com', serverPort: origin.port })], wwwCert)]);
    gw = await startGateway(createAliasRuntime, gatewayConfig([site('s', [serverGroup('g', [admin, www])])], { aliases: [vip] }));
  });
  after(async () => {
    await gw.close();
    await origin.close();
    pki.cleanup();
  });

  test('the listener asks for a certificate but lets the handshake through', () => {
    const tls = gw.runtime.listeners[0]!.tls!;
    assert.equal(tls.requestCert, true);
    assert.equal(tls.rejectUnauthorized, false);
  });

  test('the service that requires one answers 403 without it, 200 with it; the other serves everyone', async () => {
    const without = await httpsGet(gw.port(8443), { servername: 'admin.example.com', ca: pki.ca.cert });
    assert.equal(without.status, 403);
    assert.match(without.body, /client certificate required/);
    const withCert = await httpsGet(gw.port(8443), { servername: 'admin.example.com', ca: pki.ca.cert, client: pki.client('bob') });
    assert.equal(withCert.status, 200);
    const www = await httpsGet(gw.port(8443), { servername: 'www.example.com', ca: pki.ca.cert });
    assert.equal(www.status, 200);
    assert.equal(www.peer.subject.CN, 'www.example.com');
  });
});
