/** Server verdicts survive a reload (a new PoolSet on the same health log), and only then. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { UpstreamPools } from '../../src/pipeline/upstream-pools.js';
import { HealthLog } from '../../src/pools/health-log.js';
import { PoolSet } from '../../src/pools/pool-set.js';
import { closedPort, member, poolConfig, startOrigins, waitFor } from './pool-gateway.js';

const TIMEOUTS = { connectMs: 500, upstreamHeadersMs: 1000, idleMs: 1000, clientHeadersMs: 1000, keepAliveMs: 1000, shutdownGraceMs: 100 };
const REQ = { headers: {} } as IncomingMessage;

test('a server found down stays down across a reload until its checks bring it back', async () => {
  const [alive] = await startOrigins(['alive']);
  const dead = await closedPort();
  const config = poolConfig([member(dead), member(alive!.port)], {
    healthCheck: { url: '/healthz', intervalMs: 100, timeoutMs: 100, expectStatus: { min: 200, max: 399 }, rise: 2, fall: 1, host: null },
  });
  const upstreams = new UpstreamPools(TIMEOUTS);
  const log = new HealthLog();
  const logger = pino({ level: 'silent' });
  const build = (healthLog: HealthLog) => {
    const set = new PoolSet(logger, healthLog);
    const pool = set.add('g/web rule 10', config, (m) => upstreams.get({ host: m.address, port: m.port, encrypt: false, validateServerCertificate: true, ca: null, serverName: null }));
    return { set, pool };
  };
  try {
    const first = build(log);
    first.set.start();
    await waitFor(() => !first.pool.servers[0]!.up, 2000, 'the dead server marked down');
    first.set.stop();

    const reloaded = build(log);
    assert.equal(reloaded.pool.servers[0]!.up, false, 'remembered as down');
    assert.equal(reloaded.pool.servers[1]!.up, true);
    for (let i = 0; i < 4; i++) {
      const pick = reloaded.pool.pick('192.0.2.1', REQ)!;
      assert.equal(pick.upstream.label, `127.0.0.1:${alive!.port}`, 'no request goes to the server known to be down');
      pick.release();
    }
    const fresh = build(new HealthLog());
    assert.equal(fresh.pool.servers[0]!.up, true, 'another process (another log) knows nothing');
  } finally {
    await upstreams.destroy();
    await alive!.kill();
  }
});
