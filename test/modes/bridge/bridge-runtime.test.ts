/**
 * Bridge runtime, built from real YAML through the loader: listeners per protected port and family,
 * configuration conflicts, the forwardedClientIp default per transparency, certificate choice per
 * original destination through the real listener registry (TLS handshakes on loopback), and the
 * answer to a connection whose destination no service protects. The packet path itself (nftables,
 * IP_TRANSPARENT) is covered end to end in test/lab/bridge-daemon.test.ts.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { pino } from 'pino';
import { parseConfigText } from '../../../src/config/load.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import { ListenerRegistry, type ApplyOptions } from '../../../src/daemon/listener-registry.js';
import type { ListenerSpec, ModeRuntime } from '../../../src/daemon/runtime.js';
import { BridgeRuntimeError, canonicalAddress } from '../../../src/modes/bridge/bridge-endpoints.js';
import { createBridgeRuntime } from '../../../src/modes/bridge/bridge-runtime.js';
import { createTestPki, type TestPki } from '../../helpers/certs.js';

const logger = pino({ level: 'silent' });
const repo = join(import.meta.dirname, '..', '..', '..');

describe('bridge runtime', () => {
  let pki: TestPki;
  let dir: string;
  let certs: Record<'a' | 'b' | 'v6', { cert: string; key: string }>;
  const runtimes: ModeRuntime[] = [];

  before(() => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'portcullis-bridge-'));
    const a = pki.server('a', ['a.test'], ['127.0.0.1']);
    const b = pki.server('b', ['b.test', '*.wild.test'], ['127.0.0.2']);
    const v6 = pki.server('v6', ['v6.test']);
    certs = {
      a: { cert: a.certFile, key: a.keyFile },
      b: { cert: b.certFile, key: b.keyFile },
      v6: { cert: v6.certFile, key: v6.keyFile },
    };
  });
  after(async () => {
    await Promise.all(runtimes.map((r) => r.close(0)));
    rmSync(dir, { recursive: true, force: true });
    pki.cleanup();
  });

  const load = (yaml: string): GatewayConfig => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    const result = parseConfigText(yaml, file);
    if (!result.ok) assert.fail(result.errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`).join('\n'));
    return result.config;
  };
  const build = (config: GatewayConfig): ModeRuntime => {
    const runtime = createBridgeRuntime(config, { logger, inspectors: null });
    runtimes.push(runtime);
    return runtime;
  };

  const twoServices = (extra = '', gateway = ''): string => `
gateway:
  mode: bridge
  workers: 1
${gateway}
sites:
  - name: s
    serverGroups:
      - name: group-a
        servers: [127.0.0.1, "fd00:20:0:0::10"]
        services:
          - name: web-a
            ports: [8080]
            sslPorts: [8443]
            certificates:
              - { name: a, cert: ${certs.a.cert}, key: ${certs.a.key} }
              - { name: v6, cert: ${certs.v6.cert}, key: ${certs.v6.key} }
${extra}
      - name: group-b
        servers: [127.0.0.2]
        services:
          - name: web-b
            sslPorts: [8443]
            certificates:
              - { name: b, cert: ${certs.b.cert}, key: ${certs.b.key} }
`;

  it('one transparent listener per protected port and family, TLS on sslPorts', () => {
    const runtime = build(load(twoServices()));
    const shape = runtime.listeners.map((l) => `${l.key} ${l.address} ${l.port} tls=${l.tls !== null} transparent=${l.transparent}`);
    assert.deepEqual(shape, [
      '0.0.0.0:8080 0.0.0.0 8080 tls=false transparent=true',
      '[::]:8080 :: 8080 tls=false transparent=true',
      '0.0.0.0:8443 0.0.0.0 8443 tls=true transparent=true',
      '[::]:8443 :: 8443 tls=true transparent=true',
    ]);
    assert.match(runtime.listeners[0]!.source ?? '', /sites\[0\]\.serverGroups\[0\]\.services\[0\]/);
  });

  it('IPv6 servers are matched in the canonical form the kernel reports', () => {
    assert.equal(canonicalAddress('fd00:20:0:0::10'), 'fd00:20::10');
    assert.equal(canonicalAddress('FD00:0020::0010'), 'fd00:20::10');
    assert.equal(canonicalAddress('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(canonicalAddress('10.0.0.1'), '10.0.0.1');
  });

  it('refuses a port that is plain for one service and TLS for another', () => {
    const config = load(twoServices().replace('ports: [8080]', 'ports: [8080, 9443]').replace('sslPorts: [8443]\n            certificates:\n              - { name: b', 'sslPorts: [8443, 9443]\n            certificates:\n              - { name: b'));
    assert.throws(() => build(config), (err: unknown) => err instanceof BridgeRuntimeError && err.code === 'LISTENER_TLS_CONFLICT' && /port 9443/.test(err.message));
  });

  it('refuses a TLS port of a service without certificates', () => {
    const config = load(`
gateway: { mode: bridge, workers: 1 }
sites:
  - name: s
    serverGroups:
      - name: g
        servers: [127.0.0.1]
        services:
          - { name: bare, sslPorts: [443] }
`);
    assert.throws(() => build(config), (err: unknown) => err instanceof BridgeRuntimeError && err.code === 'NO_CERTIFICATE' && /service bare has sslPort 443/.test(err.message));
  });

  it('refuses more than one worker, saying what to set', () => {
    const config = load(twoServices().replace('workers: 1', 'workers: 2'));
    assert.throws(() => build(config), (err: unknown) => err instanceof BridgeRuntimeError && err.code === 'BRIDGE_WORKERS' && /gateway\.workers to 1/.test(err.message));
  });

  it('forwardedClientIp: off by default for client-ip, on for gateway-ip and alias mode, on when given', () => {
    const fci = (config: GatewayConfig): boolean => config.sites[0]!.serverGroups[0]!.services[0]!.forwardedClientIp.enabled;
    assert.equal(fci(load(twoServices())), false, 'client-ip is the default transparency');
    assert.equal(fci(load(twoServices('', '  bridge: { transparency: gateway-ip }'))), true);
    assert.equal(fci(load(twoServices('            forwardedClientIp: true'))), true, 'explicitly on');
    assert.equal(fci(load(twoServices('            forwardedClientIp: { header: X-Client-IP }'))), true, 'a mapping turns it on');
    const alias = load(`
gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            reverseProxy: [{ alias: vip, port: 80, rules: [{ priority: 1, serverIp: 127.0.0.1, serverPort: 8080 }] }]
`);
    assert.equal(fci(alias), true, 'alias mode');
  });

  describe('TLS through the listener registry (loopback handshakes)', () => {
    let registry: ListenerRegistry;
    let port = 0;
    before(async () => {
      const runtime = build(load(twoServices()));
      const tlsSpec = runtime.listeners.find((l) => l.key === '0.0.0.0:8443')!;
      // The same spec on an ordinary socket: the registry's handshake code is what is under test.
      const spec: ListenerSpec = { ...tlsSpec, key: 'test', port: 0, transparent: false };
      registry = new ListenerRegistry({ logger });
      const options: ApplyOptions = { serverOptions: { maxHeaderSize: 16_384, headersTimeout: 60_000, keepAliveTimeout: 5000 }, clientErrorHandler: null, describe: () => 'test', drainGraceMs: 100 };
      await registry.apply([spec], options);
      port = registry.list()[0]!.port;
    });
    after(() => registry.close(0));

    const certificateSeen = (host: string, servername?: string): Promise<PeerCertificate> =>
      new Promise((resolve, reject) => {
        const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
          const cert = socket.getPeerCertificate();
          socket.destroy();
          resolve(cert);
        });
        socket.once('error', reject);
      });
    const names = (cert: PeerCertificate): string => cert.subjectaltname ?? '';

    it('no SNI: the certificate of the service protecting the destination address', async () => {
      assert.match(names(await certificateSeen('127.0.0.1')), /DNS:a\.test/);
      assert.match(names(await certificateSeen('127.0.0.2')), /DNS:b\.test/);
    });

    it('SNI naming a certificate on the port wins, whatever the address', async () => {
      assert.match(names(await certificateSeen('127.0.0.1', 'b.test')), /DNS:b\.test/);
      assert.match(names(await certificateSeen('127.0.0.2', 'a.test')), /DNS:a\.test/);
      assert.match(names(await certificateSeen('127.0.0.1', 'x.wild.test')), /DNS:\*\.wild\.test/);
      assert.match(names(await certificateSeen('127.0.0.1', 'v6.test')), /DNS:v6\.test/);
    });

    it('an unknown SNI falls back to the certificate bound to the destination address', async () => {
      assert.match(names(await certificateSeen('127.0.0.2', 'unknown.test')), /DNS:b\.test/);
      assert.match(names(await certificateSeen('127.0.0.1', 'unknown.test')), /DNS:a\.test/);
    });
  });

  it('a connection to a destination no service protects is answered 502 and closed', async () => {
    const runtime = build(load(twoServices()));
    const plainSpec = runtime.listeners.find((l) => l.key === '0.0.0.0:8080')!;
    const registry = new ListenerRegistry({ logger });
    await registry.apply([{ ...plainSpec, key: 'plain', address: '127.0.0.3', port: 0, transparent: false }],
      { serverOptions: { maxHeaderSize: 16_384, headersTimeout: 60_000, keepAliveTimeout: 5000 }, clientErrorHandler: null, describe: () => 'test', drainGraceMs: 100 });
    try {
      const port = registry.list()[0]!.port;
      const answer = await new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.3', port, path: '/' }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () =>
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
        });
        req.once('error', reject);
        req.end();
      });
      assert.equal(answer.status, 502);
      assert.equal(answer.connection, 'close');
      assert.match(answer.body, /not protected by the gateway/);
      assert.equal(runtime.inFlight(), 0, 'never entered the pipeline');
    } finally {
      await registry.close(0);
    }
  });

  it('config/examples/bridge.yaml builds a runtime (certificates generated here)', () => {
    const lab = pki.server('lab', ['server.lab'], ['10.20.0.10']);
    const text = readFileSync(join(repo, 'config', 'examples', 'bridge.yaml'), 'utf8')
      .replaceAll('/etc/portcullis/certs/lab-server.crt', lab.certFile)
      .replaceAll('/etc/portcullis/certs/lab-server.key', lab.keyFile);
    const config = load(text);
    assert.equal(config.gateway.workers, 1);
    const runtime = build(config);
    assert.deepEqual(runtime.listeners.map((l) => `${l.key} tls=${l.tls !== null}`), ['0.0.0.0:80 tls=false', '0.0.0.0:443 tls=true']);
    const service = config.sites[0]!.serverGroups[0]!.services[0]!;
    assert.equal(service.encrypt, true, 'the lab server speaks TLS on 443');
    assert.equal(service.forwardedClientIp.enabled, false, 'client-ip: no X-Forwarded-For');
  });
});
