/**
 * The loader's output drives the alias runtime: a YAML configuration (parsed by src/config/load.ts) with
 * two TLS services sharing one alias:port and a plain port, end to end.
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { get, readResponse, startEchoOrigin, startGateway, type Gateway } from '../pipeline/harness.js';

describe('alias runtime from a YAML configuration', () => {
  let pki: TestPki;
  let shop: Awaited<ReturnType<typeof startEchoOrigin>>;
  let blog: Awaited<ReturnType<typeof startEchoOrigin>>;
  let gw: Gateway;

  before(async () => {
    pki = createTestPki();
    const shopPem = pki.server('shop', ['shop.example.com']);
    const blogPem = pki.server('blog', ['blog.example.com', '*.blog.example.com']);
    shop = await startEchoOrigin('shop');
    blog = await startEchoOrigin('blog');
    const yaml = `
gateway:
  mode: alias
  skipAddressCheck: true
  aliases:
    - { name: vip1, device: lo, address: 127.0.0.1/8 }
sites:
  - name: Example
    serverGroups:
      - name: shop
        services:
          - name: shop-web
            certificates:
              - { name: shop-cert, cert: ${shopPem.certFile}, key: ${shopPem.keyFile} }
            reverseProxy:
              - alias: vip1
                port: 18443
                tls: true
                serverCertificate: shop-cert
                rules:
                  - { priority: 10, host: shop.example.com, urlPrefix: /, serverIp: 127.0.0.1, serverPort: ${shop.port} }
              - alias: vip1
                port: 18080
                rules:
                  - { priority: 10, host: "*", urlPrefix: /, serverIp: 127.0.0.1, serverPort: ${shop.port} }
      - name: blog
        services:
          - name: blog-web
            certificates:
              - { name: blog-cert, cert: ${blogPem.certFile}, key: ${blogPem.keyFile} }
            reverseProxy:
              - alias: vip1
                port: 18443
                tls: true
                serverCertificate: blog-cert
                rules:
                  - { priority: 20, host: "*.blog.example.com", urlPrefix: /, serverIp: 127.0.0.1, serverPort: ${blog.port} }
`;
    const loaded = parseConfigText(yaml, '/test/alias.yaml');
    if (!loaded.ok) assert.fail(`configuration rejected:\n${loaded.errors.map((e) => JSON.stringify(e)).join('\n')}`);
    gw = await startGateway(createAliasRuntime, loaded.config);
  });
  after(async () => {
    await gw?.close();
    await shop?.close();
    await blog?.close();
    pki?.cleanup();
  });

  const tlsGet = (servername: string): Promise<{ status: number; body: string; cn: string }> => new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: gw.port(18443), servername, ca: pki.ca.cert, agent: false,
      headers: { host: servername } }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
      readResponse(res).then((r) => resolve({ status: r.status, body: r.body, cn }), reject);
    });
    req.on('error', reject);
    req.end();
  });

  test('two services on one TLS port: SNI picks the certificate, Host picks the server', async () => {
    const s = await tlsGet('shop.example.com');
    assert.equal(s.cn, 'shop.example.com');
    assert.equal(JSON.parse(s.body).name, 'shop');
    const b = await tlsGet('www.blog.example.com');
    assert.equal(b.cn, 'blog.example.com');
    assert.equal(JSON.parse(b.body).name, 'blog');
  });

  test('the plain port routes too, with the loader\'s forwarded-header defaults', async () => {
    const res = await get(gw.port(18080), '/p', { host: 'anything' });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).headers['x-forwarded-for'], '127.0.0.1');
  });
});
