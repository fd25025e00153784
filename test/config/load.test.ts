/**
 * Valid configurations: defaults applied, derived fields, references resolved, paths absolute, the
 * result frozen, and the shipped default and example files loading (with certificates generated here).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatConfigError, loadConfigFile, parseConfigText, type LoadResult } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let pki: TestPki;
let dir: string;

before(() => {
  pki = createTestPki();
  pki.server('shop', ['shop.example.com', 'www.shop.example.com']);
  pki.server('blog', ['blog.example.com', '*.blog.example.com']);
  dir = mkdtempSync(join(tmpdir(), 'portcullis-cfg-'));
});

after(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function mustLoad(result: LoadResult): GatewayConfig {
  if (!result.ok) assert.fail(`expected a valid configuration, got:\n${result.errors.map(formatConfigError).join('\n')}`);
  return result.config;
}

const MINIMAL = `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [8080]
            reverseProxy:
              - alias: vip
                port: 8080
                rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 8081 }]
`;

test('defaults are applied exactly as types.ts documents them', () => {
  const config = mustLoad(parseConfigText(MINIMAL, join(dir, 'minimal.yaml'), { env: {} }));
  const g = config.gateway;
  assert.equal(config.sourceFile, join(dir, 'minimal.yaml'));
  assert.equal(g.workers, 1);
  assert.deepEqual(g.log, { level: 'info', file: null, accessLog: true });
  assert.deepEqual(g.alerts, { file: null, ruleIdsHeader: null });
  assert.deepEqual(g.control, { socket: '/run/portcullis/control.sock' });
  assert.deepEqual(g.bridge, {
    interface: 'br0', ports: ['ext0', 'int0'], transparency: 'client-ip', failure: 'open', design: 'B',
    mark: 1, routeTable: 100, nftTable: 'portcullis', mac: null,
  });
  assert.deepEqual(g.sniff, {
    interface: 'eth1', snapLength: 65535, bufferBytes: 16 * 1024 * 1024,
    flowBufferBytes: 1024 * 1024, totalBufferBytes: 64 * 1024 * 1024, maxFlows: 100_000, idleTimeoutMs: 120_000, statsIntervalMs: 60_000,
  });
  assert.deepEqual(g.nfqueue, { enabled: false, queue: 0, denyIps: [], denyPorts: [], dropBlockedFlows: true, blockedFlowTtlMs: 600_000 });
  assert.deepEqual(g.limits, { maxHeaderCount: 100, maxHeaderBytes: 16384, maxUrlBytes: 8192, maxRequestBodyBytes: 0, streamHighWaterMark: 65536 });
  assert.deepEqual(g.timeouts, { connectMs: 5000, upstreamHeadersMs: 60000, idleMs: 60000, clientHeadersMs: 30000, keepAliveMs: 5000, shutdownGraceMs: 10000 });
  assert.deepEqual(g.blockPage, { status: 403, file: null, contentType: 'text/html; charset=utf-8' });
  assert.deepEqual(g.crs, { rulesDir: '/usr/share/modsecurity-crs/rules', setupFile: '/etc/modsecurity/crs/crs-setup.conf' });
  assert.equal(g.skipAddressCheck, false);
  assert.deepEqual({ ...g.aliases[0], pos: undefined }, { name: 'vip', device: 'lo', address: '127.0.0.1', prefixLength: 32, family: 4, pos: undefined });

  const group = config.sites[0]!.serverGroups[0]!;
  assert.equal(group.operationMode, 'simulation');
  assert.deepEqual(group.servers, []);
  assert.deepEqual(group.policies, {
    crs: null,
    secLang: { files: [], directives: null },
    native: { ipAllow: [], ipDeny: [], allowedMethods: null, maxUrlBytes: null, maxHeaderBytes: null, maxBodyBytes: null, rateLimit: null, rules: [] },
  });
  const service = group.services[0]!;
  assert.deepEqual(service.sslPorts, []);
  assert.deepEqual(service.certificates, []);
  assert.equal(service.forwardedConnections, null);
  assert.deepEqual(service.forwardedClientIp, { enabled: true, header: 'X-Forwarded-For', addProto: true, addHost: true });
  assert.equal(service.encrypt, false);
  assert.equal(service.validateServerCertificate, true);
  assert.equal(service.caFile, null);
  assert.equal(service.ca, null);
  assert.equal(service.clientAuth, null);
  assert.equal(service.pool, null);
  const rp = service.reverseProxy[0]!;
  assert.equal(rp.tls, false);
  assert.equal(rp.serverCertificate, null);
  assert.equal(rp.serverCertificateRef, null);
  assert.equal(rp.aliasRef, g.aliases[0]);
  const rule = rp.rules[0]!;
  assert.deepEqual({ ...rule, pos: undefined }, {
    priority: 10, host: '*', urlPrefix: '/', serverIp: '127.0.0.1', serverHost: null, serverPort: 8081, encrypt: false,
    validateServerCertificate: true, caFile: null, ca: null, serverName: null, pool: null, pos: undefined,
  });
  assert.deepEqual(rule.pos, { file: join(dir, 'minimal.yaml'), line: 14, col: 25 });
});

test('the result is deeply frozen: assignment throws in strict mode', () => {
  const config = mustLoad(parseConfigText(MINIMAL, join(dir, 'frozen.yaml')));
  assert.throws(() => { (config.gateway as { mode: string }).mode = 'bridge'; }, TypeError);
  assert.throws(() => { (config.sites[0]!.serverGroups[0]!.services[0]!.reverseProxy[0]!.rules[0] as { serverPort: number }).serverPort = 1; }, TypeError);
  assert.throws(() => { (config.sites as unknown as unknown[]).push({}); }, TypeError);
  assert.throws(() => { (config.gateway.limits as { maxHeaderCount: number }).maxHeaderCount = 1; }, TypeError);
  assert.equal(Object.isFrozen(config.sites[0]!.serverGroups[0]!.policies.native.ipAllow), true);
});

test('environment and `auto`: PORTCULLIS_CONTROL sets the control socket; workers auto = cores', () => {
  const text = MINIMAL.replace('  mode: alias\n', '  mode: alias\n  workers: auto\n');
  const config = mustLoad(parseConfigText(text, join(dir, 'env.yaml'), { env: { PORTCULLIS_CONTROL: '/tmp/pc-test.sock' } }));
  assert.equal(config.gateway.control.socket, '/tmp/pc-test.sock');
  assert.equal(config.gateway.workers, availableParallelism());
  // An explicit value in the file wins over the environment.
  const explicit = text.replace('  workers: auto\n', '  workers: auto\n  control: { socket: run/ctl.sock }\n');
  const c2 = mustLoad(parseConfigText(explicit, join(dir, 'env2.yaml'), { env: { PORTCULLIS_CONTROL: '/tmp/pc-test.sock' } }));
  assert.equal(c2.gateway.control.socket, join(dir, 'run/ctl.sock'));
});

test('TLS, SNI names, references, sorted rules, relative paths made absolute, shorthands', () => {
  const sub = join(dir, 'tls');
  mkdirSync(join(sub, 'certs'), { recursive: true });
  for (const f of ['shop.crt', 'shop.key', 'blog.crt', 'blog.key', 'ca.crt']) copyFileSync(join(pki.dir, f), join(sub, 'certs', f));
  writeFileSync(join(sub, 'block.html'), '<h1>blocked {{incidentId}}</h1>');
  const text = `gateway:
  mode: alias
  aliases:
    - { name: v6, device: lo, address: "::1/128" }
    - &vip { name: vip, device: lo, address: 127.0.0.1/8 }
  blockPage: { file: block.html }
sites:
  - name: s
    serverGroups:
      - name: g
        operationMode: active
        servers: [127.0.0.1, "::1"]
        policies:
          crs: true
          native:
            ipDeny: [192.0.2.1, 2001:db8::/32]
            allowedMethods: [get, POST]
            rateLimit: { requestsPerSecond: 2.5 }
            rules:
              - id: 7
                match:
                  header: { name: X-Evil, value: { kind: regex, value: "^a+$", caseInsensitive: true } }
        services:
          - name: web
            ports: [8080]
            sslPorts: [8443]
            certificates:
              - { name: shop, cert: certs/shop.crt, key: certs/shop.key, chain: certs/ca.crt }
              - { name: blog, cert: certs/blog.crt, key: certs/blog.key }
            clientAuth: { caFile: certs/ca.crt }
            forwardedConnections: { trustedProxies: [10.0.0.1, 10.1.0.0/16] }
            forwardedClientIp: false
            reverseProxy:
              - alias: vip
                port: 8443
                serverCertificate: blog
                rules:
                  - { priority: 30, serverHost: Origin.Example.com, serverPort: 443, encrypt: true, caFile: certs/ca.crt }
                  - { priority: 10, host: "*.Blog.example.com", urlPrefix: /api/, serverIp: "::1", serverPort: 8081 }
              - alias: v6
                port: 9443
                tls: true
                serverCertificate: shop
                rules: [{ priority: 1, serverIp: 127.0.0.1, serverPort: 8081 }]
`;
  const config = mustLoad(parseConfigText(text, join(sub, 'portcullis.yaml')));
  const group = config.sites[0]!.serverGroups[0]!;
  const service = group.services[0]!;
  const [shop, blog] = service.certificates;
  assert.equal(shop!.certFile, join(sub, 'certs/shop.crt'));
  assert.deepEqual(shop!.dnsNames, ['shop.example.com', 'www.shop.example.com']);
  assert.deepEqual(blog!.dnsNames, ['blog.example.com', '*.blog.example.com']);
  assert.equal(shop!.cert, readFileSync(join(pki.dir, 'shop.crt'), 'utf8'));
  assert.equal(shop!.chain, readFileSync(join(pki.dir, 'ca.crt'), 'utf8'));
  assert.equal(blog!.chain, null);
  assert.equal(service.clientAuth!.required, true);
  assert.equal(service.clientAuth!.ca, pki.ca.cert);
  assert.deepEqual(service.forwardedConnections, { header: 'X-Forwarded-For', headerLower: 'x-forwarded-for', trustedProxies: ['10.0.0.1/32', '10.1.0.0/16'] });
  assert.equal(service.forwardedClientIp.enabled, false);
  assert.equal(config.gateway.blockPage.file, join(sub, 'block.html'));

  const [rp1, rp2] = service.reverseProxy;
  assert.equal(rp1!.tls, true, 'port 8443 is in sslPorts');
  assert.equal(rp1!.serverCertificateRef, blog);
  assert.equal(rp1!.aliasRef.address, '127.0.0.1');
  assert.deepEqual(rp1!.rules.map((r) => r.priority), [10, 30], 'rules sorted by priority');
  assert.equal(rp1!.rules[0]!.host, '*.blog.example.com');
  assert.equal(rp1!.rules[1]!.serverHost, 'origin.example.com');
  assert.equal(rp1!.rules[1]!.serverName, 'origin.example.com', 'serverName defaults to serverHost');
  assert.equal(rp1!.rules[1]!.ca, pki.ca.cert);
  assert.equal(rp2!.tls, true, 'explicit tls: true');
  assert.equal(rp2!.aliasRef.family, 6);

  assert.deepEqual(group.policies.crs, {
    paranoiaLevel: 1, executingParanoiaLevel: null, inboundAnomalyThreshold: 5, outboundAnomalyThreshold: 4,
    rulesDir: '/usr/share/modsecurity-crs/rules', setupFile: '/etc/modsecurity/crs/crs-setup.conf',
    removeRuleIds: [], removeRuleTags: [], before: [], setVars: {},
  });
  const native = group.policies.native;
  assert.deepEqual(native.ipDeny, ['192.0.2.1/32', '2001:db8::/32']);
  assert.deepEqual(native.allowedMethods, ['GET', 'POST']);
  assert.deepEqual(native.rateLimit, { requestsPerSecond: 2.5, burst: 3, action: 'block', status: 429 });
  const rule = native.rules[0]!;
  assert.equal(rule.name, 'custom rule 7');
  assert.equal(rule.action, 'block');
  assert.equal(rule.status, 403);
  assert.deepEqual(rule.match.header, { name: 'x-evil', value: { kind: 'regex', value: '^a+$', caseInsensitive: true } });
  assert.equal(rule.match.path, null);
});

test('CRS locations: per group override, else gateway.crs', () => {
  const text = MINIMAL.replace('  mode: alias\n', '  mode: alias\n  crs: { rulesDir: /opt/crs/rules }\n')
    .replace('      - name: g\n', '      - name: g\n        policies:\n          crs: { paranoiaLevel: 2, setupFile: setup.conf, setVars: { crs_validate_utf8_encoding: 1 } }\n');
  const config = mustLoad(parseConfigText(text, join(dir, 'crs.yaml')));
  const crs = config.sites[0]!.serverGroups[0]!.policies.crs!;
  assert.equal(crs.rulesDir, '/opt/crs/rules');
  assert.equal(crs.setupFile, join(dir, 'setup.conf'));
  assert.equal(crs.paranoiaLevel, 2);
  assert.deepEqual(crs.setVars, { crs_validate_utf8_encoding: 1 });
});

test('two services share one TLS listener (SNI picks the certificate)', () => {
  const text = `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: shop
            sslPorts: [8443]
            certificates: [{ name: c, cert: ${pki.dir}/shop.crt, key: ${pki.dir}/shop.key }]
            reverseProxy: [{ alias: vip, port: 8443, serverCertificate: c, rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 1 }] }]
          - name: blog
            sslPorts: [8443]
            certificates: [{ name: c, cert: ${pki.dir}/blog.crt, key: ${pki.dir}/blog.key }]
            reverseProxy: [{ alias: vip, port: 8443, serverCertificate: c, rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 2 }] }]
`;
  const config = mustLoad(parseConfigText(text, join(dir, 'sni.yaml')));
  const services = config.sites[0]!.serverGroups[0]!.services;
  assert.deepEqual(services.map((s) => s.reverseProxy[0]!.serverCertificateRef!.dnsNames[0]), ['shop.example.com', 'blog.example.com']);
});

test('a missing configuration file is an error value, not an exception', () => {
  const result = loadConfigFile(join(dir, 'nope.yaml'));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.errors.map(formatConfigError), [`${join(dir, 'nope.yaml')}:1:1: cannot read the configuration file: no such file (ENOENT)`]);
  assert.equal(result.errors[0]!.code, 'FILE_UNREADABLE');
});

test('config/portcullis.yaml (the npm start default) is valid and says what the newcomer guide says', () => {
  const config = mustLoad(loadConfigFile(join(repo, 'config/portcullis.yaml')));
  assert.equal(config.gateway.mode, 'alias');
  assert.equal(config.gateway.workers, 1);
  assert.equal(config.gateway.skipAddressCheck, false);
  assert.deepEqual(config.gateway.aliases.map((a) => [a.name, a.device, a.address, a.prefixLength]), [['loopback', 'lo', '127.0.0.1', 8]]);
  const group = config.sites[0]!.serverGroups[0]!;
  assert.equal(config.sites[0]!.name, 'Demo Site');
  assert.equal(group.name, 'demo');
  assert.equal(group.operationMode, 'active');
  assert.deepEqual(group.servers, ['127.0.0.1']);
  assert.equal(group.policies.crs?.paranoiaLevel, 1);
  const rp = group.services[0]!.reverseProxy[0]!;
  assert.equal(group.services[0]!.name, 'web');
  assert.deepEqual([rp.alias, rp.port, rp.tls], ['loopback', 8080, false]);
  assert.deepEqual(rp.rules.map((r) => [r.priority, r.host, r.urlPrefix, r.serverIp, r.serverPort]), [[10, '*', '/', '127.0.0.1', 8081]]);
});

/** Copies an example, pointing its /etc/portcullis/certs/ paths at generated files. */
function exampleWithCerts(name: string, certs: Record<string, string>): string {
  const certDir = join(dir, `${name}-certs`);
  mkdirSync(certDir, { recursive: true });
  for (const [target, source] of Object.entries(certs)) copyFileSync(join(pki.dir, source), join(certDir, target));
  const text = readFileSync(join(repo, 'config/examples', `${name}.yaml`), 'utf8').replaceAll('/etc/portcullis/certs/', `${certDir}/`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

test('config/examples/alias.yaml loads (with generated certificates)', () => {
  const file = exampleWithCerts('alias', {
    'shop.example.com.crt': 'shop.crt', 'shop.example.com.key': 'shop.key', 'intermediate.crt': 'ca.crt',
    'internal-ca.crt': 'ca.crt', 'blog.example.com.crt': 'blog.crt', 'blog.example.com.key': 'blog.key', 'clients-ca.crt': 'ca.crt',
  });
  const config = mustLoad(loadConfigFile(file));
  assert.equal(config.gateway.mode, 'alias');
  assert.equal(config.gateway.workers, availableParallelism());
  const listeners = config.sites.flatMap((s) => s.serverGroups).flatMap((g) => g.services).flatMap((s) => s.reverseProxy);
  assert.deepEqual(listeners.map((l) => `${l.aliasRef.address}:${l.port}:${l.tls}:${l.serverCertificate}`), [
    '10.30.0.100:80:false:null', '10.30.0.100:443:true:shop-cert', '10.30.0.100:443:true:blog-cert',
  ]);
});

test('config/examples/bridge.yaml loads (with generated certificates)', () => {
  const file = exampleWithCerts('bridge', { 'lab-server.crt': 'shop.crt', 'lab-server.key': 'shop.key' });
  const config = mustLoad(loadConfigFile(file));
  assert.equal(config.gateway.mode, 'bridge');
  assert.deepEqual(config.gateway.bridge.ports, ['ext0', 'int0']);
  assert.deepEqual(config.sites[0]!.serverGroups[0]!.servers, ['10.20.0.10']);
  assert.deepEqual(config.sites[0]!.serverGroups[0]!.services[0]!.sslPorts, [443]);
});

test('config/examples/sniff.yaml loads', () => {
  const config = mustLoad(loadConfigFile(join(repo, 'config/examples/sniff.yaml')));
  assert.equal(config.gateway.mode, 'sniff');
  assert.deepEqual(config.gateway.sniff, {
    interface: 'eth1', snapLength: 65535, bufferBytes: 256 * 1024 * 1024,
    flowBufferBytes: 1024 * 1024, totalBufferBytes: 64 * 1024 * 1024, maxFlows: 100_000, idleTimeoutMs: 120_000, statsIntervalMs: 60_000,
  });
});
