/**
 * Bridge-mode pools: the original destination stays the default target; a standby from the service's
 * pool takes over while it is down. The bridge runtime is driven through a plain loopback listener
 * whose accepted sockets report the protected endpoint as their local address — what an
 * IP_TRANSPARENT listener reports after nftables diverted the connection (the kernel path itself is
 * covered by test/lab/bridge-daemon.test.ts). Origins and upstream connections are real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfigText } from '../../src/config/load.js';
import type { ServerPoolConfig } from '../../src/config/types.js';
import { createBridgeRuntime } from '../../src/modes/bridge/bridge-runtime.js';
import { endpointPool } from '../../src/pools/bridge-pools.js';
import { HealthLog } from '../../src/pools/health-log.js';
import { captureLogs } from '../pipeline/harness.js';
import { closedPort, load, startOrigins, tally, waitFor } from './pool-gateway.js';

const POS = { file: '/t.yaml', line: 1, col: 1 };

test('endpointPool: the destination first, port 0 means the destination\'s port, the destination is not listed twice', () => {
  const pool: ServerPoolConfig = {
    algorithm: 'round-robin', stickyCookie: null, healthCheck: null, passive: { failures: 3, downForMs: 1000 }, pos: POS,
    servers: [
      { address: '10.0.0.9', port: 0, weight: 1, backup: true, pos: POS },
      { address: 'fd00:0:0::10', port: 443, weight: 2, backup: false, pos: POS },
      { address: '10.0.0.7', port: 8443, weight: 1, backup: false, pos: POS },
    ],
  };
  const v4 = endpointPool('10.0.0.1', 443, pool).servers.map((m) => `${m.address}:${m.port}${m.backup ? ' backup' : ''}`);
  assert.deepEqual(v4, ['10.0.0.1:443', 'fd00:0:0::10:443', '10.0.0.7:8443', '10.0.0.9:443 backup']);
  const v6 = endpointPool('fd00::10', 443, pool).servers.map((m) => `${m.address}:${m.port}`);
  assert.deepEqual(v6, ['fd00::10:443', '10.0.0.7:8443', '10.0.0.9:443'], 'fd00:0:0::10 is the destination itself');
});

test('bridge service pool: the destination serves while it is up; the standby takes over when it dies and hands back', async () => {
  const [destination, standby] = await startOrigins(['destination', 'standby']);
  // The destination is 127.0.0.1:<port of the destination origin>; the standby listens on another port.
  const yaml = `gateway:
  mode: bridge
  bridge: { transparency: gateway-ip }
sites:
  - name: s
    serverGroups:
      - name: g
        servers: [127.0.0.1]
        services:
          - name: web
            ports: [${destination!.port}]
            pool:
              servers: [{ address: 127.0.0.1, port: ${standby!.port}, backup: true }]
              healthCheck: { url: /healthz, intervalMs: 100, timeoutMs: 80, rise: 2, fall: 2 }
`;
  const parsed = parseConfigText(yaml, '/t/bridge.yaml');
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  const logs = captureLogs();
  const healthLog = new HealthLog();
  const runtime = createBridgeRuntime(parsed.config, { logger: logs.logger, inspectors: null, healthLog });
  await runtime.start?.();
  const spec = runtime.listeners[0]!;
  const server = createServer((req: IncomingMessage, res) => {
    // As an IP_TRANSPARENT listener reports it: the local end is the original destination.
    Object.defineProperty(req.socket, 'localAddress', { value: '127.0.0.1', configurable: true });
    Object.defineProperty(req.socket, 'localPort', { value: destination!.port, configurable: true });
    spec.onRequest(req, res);
  });
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const via = (n: number) => loadOn(port, n);
  try {
    assert.deepEqual(tally(await via(20)), { destination: 20 }, 'the original destination is the default target');
    await destination!.kill();
    await waitFor(() => logs.lines.some((l) => l.event === 'server-down' && l.server === `127.0.0.1:${destination!.port}`), 3000, 'destination down');
    assert.deepEqual(tally(await via(20)), { standby: 20 });
    await destination!.revive();
    await waitFor(() => logs.lines.some((l) => l.event === 'server-up'), 3000, 'destination back');
    assert.deepEqual(tally(await via(20)), { destination: 20 });
    assert.ok(healthLog.entries().some((e) => e.server === `127.0.0.1:${standby!.port}` && e.ok), 'the standby is checked too');
  } finally {
    server.close();
    server.closeAllConnections();
    await runtime.close(200);
    await destination!.kill().catch(() => {});
    await standby!.kill();
  }
});

/** load() against a listener on 127.0.0.2. */
async function loadOn(port: number, count: number) {
  return load(port, count, 2, '127.0.0.2');
}

test('bridge service pool without a healthy server: a connect failure fails over at once', async () => {
  const [standby] = await startOrigins(['standby']);
  const dead = await closedPort();
  const yaml = `gateway:
  mode: bridge
  bridge: { transparency: gateway-ip }
sites:
  - name: s
    serverGroups:
      - name: g
        servers: [127.0.0.1]
        services:
          - name: web
            ports: [${dead}]
            pool: { servers: [{ address: 127.0.0.1, port: ${standby!.port}, backup: true }] }
`;
  const parsed = parseConfigText(yaml, '/t/bridge2.yaml');
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  const logs = captureLogs();
  const runtime = createBridgeRuntime(parsed.config, { logger: logs.logger, inspectors: null });
  const spec = runtime.listeners[0]!;
  const server = createServer((req, res) => {
    Object.defineProperty(req.socket, 'localAddress', { value: '127.0.0.1', configurable: true });
    Object.defineProperty(req.socket, 'localPort', { value: dead, configurable: true });
    spec.onRequest(req, res);
  });
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  try {
    assert.deepEqual(tally(await loadOn((server.address() as AddressInfo).port, 10)), { standby: 10 });
  } finally {
    server.close();
    server.closeAllConnections();
    await runtime.close(200);
    await standby!.kill();
  }
});
