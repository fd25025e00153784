/**
 * Pools through the alias runtime with real origins on loopback: distribution, least-connections,
 * failover and recovery under load, backups, stickiness, 503 when nothing is left, and the health log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import {
  closedPort, fetchVia, load, member, poolConfig, startOrigins, startPoolGateway, tally, upgradeVia, waitFor, type Answer,
} from './pool-gateway.js';

// Generous timeouts: the test process also runs the load, the gateway and the origins on a shared machine.
const HEALTH = { url: '/healthz', intervalMs: 100, timeoutMs: 100, expectStatus: { min: 200, max: 399 }, rise: 2, fall: 3, host: null };

test('weighted round-robin: 3:2:1 weights split 600 requests within 2%', async () => {
  const origins = await startOrigins(['a', 'b', 'c']);
  const gw = await startPoolGateway(poolConfig([
    member(origins[0]!.port, { weight: 3 }), member(origins[1]!.port, { weight: 2 }), member(origins[2]!.port, { weight: 1 }),
  ]));
  try {
    const counts = tally(await load(gw.port, 600, 8));
    assert.equal(Object.keys(counts).sort().join(','), 'a,b,c', JSON.stringify(counts));
    for (const [name, expected] of [['a', 300], ['b', 200], ['c', 100]] as const) {
      assert.ok(Math.abs(counts[name]! - expected) <= 12, `${name}: ${counts[name]} of 600, expected ${expected} ± 12`);
    }
    const upstreams = new Set(gw.logs.access().map((l) => l.upstream));
    assert.deepEqual(upstreams, new Set(origins.map((o) => `127.0.0.1:${o.port}`)), 'the access log names the server that answered');
  } finally {
    await gw.close();
    for (const o of origins) await o.kill();
  }
});

test('least-connections sends most requests to the fast server when the other is slow', async () => {
  const [slow, fast] = await startOrigins(['slow', 'fast']);
  slow!.delayMs = 150;
  fast!.delayMs = 5;
  const gw = await startPoolGateway(poolConfig([member(slow!.port), member(fast!.port)], { algorithm: 'least-connections' }));
  try {
    let maxSlowInFlight = 0;
    const sampler = setInterval(() => { maxSlowInFlight = Math.max(maxSlowInFlight, slow!.inFlight); }, 2);
    const counts = tally(await load(gw.port, 120, 6));
    clearInterval(sampler);
    assert.equal((counts.slow ?? 0) + (counts.fast ?? 0), 120, JSON.stringify(counts));
    assert.ok(counts.fast! >= 4 * (counts.slow ?? 0), `fast ${counts.fast} vs slow ${counts.slow}`);
    assert.ok((counts.slow ?? 0) > 0, 'the slow server still gets its share of ties');
    assert.ok(maxSlowInFlight <= 3, `the slow server never held more than a few requests (max ${maxSlowInFlight})`);
  } finally {
    await gw.close();
    await slow!.kill();
    await fast!.kill();
  }
});

test('failover and recovery under load: a server crashes and returns, no request fails', async () => {
  const origins = await startOrigins(['a', 'b', 'c']);
  const [a] = origins;
  const gw = await startPoolGateway(poolConfig(origins.map((o) => member(o.port)), {
    healthCheck: HEALTH, passive: { failures: 2, downForMs: 200 },
  }));
  const answers: Array<Answer | Error> = [];
  let running = true;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const clients = Array.from({ length: 8 }, async () => {
    while (running) answers.push(await fetchVia(gw.port, agent).catch((err: Error) => err));
  });
  try {
    await waitFor(() => a!.served > 20, 3000, 'traffic on a');
    await a!.kill();
    const servedAtDeath = answers.length;
    await waitFor(() => gw.logs.lines.some((l) => l.event === 'server-down' && l.server === `127.0.0.1:${a!.port}` && l.reason === 'health-check'), 3000, 'a marked down by its health check');
    await waitFor(() => answers.length > servedAtDeath + 200, 5000, 'load while a is down');
    await a!.revive();
    const servedBeforeReturn = a!.served;
    await waitFor(() => gw.logs.lines.some((l) => l.event === 'server-up' && l.server === `127.0.0.1:${a!.port}`), 3000, 'a back up');
    await waitFor(() => a!.served > servedBeforeReturn + 20, 3000, 'a serving again');
  } finally {
    running = false;
    await Promise.all(clients);
    agent.destroy();
    await gw.close();
    for (const o of origins) await o.kill().catch(() => {});
  }
  const counts = tally(answers);
  assert.deepEqual(Object.keys(counts).sort(), ['a', 'b', 'c'], `only answers from the servers, no failures: ${JSON.stringify(counts)}`);
  assert.ok(answers.length > 300, `load was applied (${answers.length} requests)`);
  assert.equal(gw.logs.access().filter((l) => l.error !== null).length, 0);

  const entries = gw.healthLog.entries();
  const ofA = entries.filter((e) => e.server === `127.0.0.1:${a!.port}`);
  assert.ok(ofA.some((e) => e.error === 'ECONNREFUSED' && e.status === null && !e.ok), 'the ring shows the refused checks');
  const good = ofA.find((e) => e.status === 200)!;
  assert.match(good.gateway, /^127\.0\.0\.1:\d+$/, 'the gateway side of the path: the local address of the check socket');
  assert.notEqual(good.gateway, `127.0.0.1:${a!.port}`);
  assert.equal(good.url, `http://127.0.0.1:${a!.port}/healthz`);
  assert.ok(good.ok && good.latencyMs >= 0 && good.time > 0);
  assert.deepEqual(entries.map((e) => e.seq), entries.map((_, i) => entries[0]!.seq + i), 'in order');
});

test('backups serve only while every primary is down; all down is a 503 no-healthy-server', async () => {
  const [primary, backup] = await startOrigins(['primary', 'backup']);
  const gw = await startPoolGateway(poolConfig([member(primary!.port), member(backup!.port, { backup: true })], { healthCheck: HEALTH }));
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  try {
    assert.deepEqual(tally(await load(gw.port, 20, 2)), { primary: 20 });
    primary!.health = 503;
    await waitFor(() => gw.logs.lines.some((l) => l.event === 'server-down'), 3000, 'primary down');
    assert.deepEqual(tally(await load(gw.port, 20, 2)), { backup: 20 });
    backup!.health = 500;
    await waitFor(() => gw.logs.lines.filter((l) => l.event === 'server-down').length === 2, 3000, 'backup down');
    const refused = await fetchVia(gw.port, agent);
    assert.equal(refused.status, 503);
    assert.equal(refused.body, 'Service Unavailable: no healthy server in the pool\n');
    await waitFor(() => gw.logs.access().some((l) => l.error === 'no-healthy-server'), 1000, 'the 503 log line');
    const line = gw.logs.access().find((l) => l.error === 'no-healthy-server')!;
    assert.equal(line.status, 503);
    assert.equal(line.msg, 'request failed');
    primary!.health = 200;
    await waitFor(() => gw.logs.lines.some((l) => l.event === 'server-up'), 3000, 'primary up');
    assert.deepEqual(tally(await load(gw.port, 10, 2)), { primary: 10 });
  } finally {
    agent.destroy();
    await gw.close();
    await primary!.kill();
    await backup!.kill();
  }
});

test('a request in flight to a server that is marked down finishes', async () => {
  const [slow, other] = await startOrigins(['slow', 'other']);
  const gw = await startPoolGateway(poolConfig([member(slow!.port), member(other!.port, { backup: true })], { healthCheck: HEALTH }));
  try {
    slow!.delayMs = 600;
    const pending = fetchVia(gw.port, false);
    await waitFor(() => slow!.inFlight === 1, 2000, 'the slow request at the server');
    slow!.health = 503;
    await waitFor(() => gw.logs.lines.some((l) => l.event === 'server-down'), 2000, 'slow down');
    assert.equal(slow!.inFlight, 1, 'still in flight when the server went down');
    assert.equal((await fetchVia(gw.port, false)).body, 'other', 'new requests go elsewhere');
    const answer = await pending;
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'slow');
  } finally {
    await gw.close();
    await slow!.kill();
    await other!.kill();
  }
});

test('connect failures go to another server at once; with nothing reachable the answer is 502, then 503', async () => {
  const [alive] = await startOrigins(['alive']);
  const dead1 = await closedPort();
  const dead2 = await closedPort();
  const gw = await startPoolGateway(poolConfig([member(dead1), member(alive!.port), member(dead2)], { passive: { failures: 1, downForMs: 60_000 } }));
  try {
    assert.deepEqual(tally(await load(gw.port, 30, 3)), { alive: 30 });
    const downs = gw.logs.lines.filter((l) => l.event === 'server-down' && l.reason === 'passive').map((l) => l.server).sort();
    assert.deepEqual(downs, [`127.0.0.1:${dead1}`, `127.0.0.1:${dead2}`].sort());
  } finally {
    await gw.close();
    await alive!.kill();
  }
  const gw2 = await startPoolGateway(poolConfig([member(dead1), member(dead2)]));
  try {
    const first = await fetchVia(gw2.port, false);
    assert.equal(first.status, 502, 'every server was tried and refused');
    const second = await fetchVia(gw2.port, false);
    assert.equal(second.status, 503, 'both are now held out by passive health');
  } finally {
    await gw2.close();
  }
});

test('sticky cookie: the first answer pins the client to its server', async () => {
  const origins = await startOrigins(['a', 'b', 'c']);
  const gw = await startPoolGateway(poolConfig(origins.map((o) => member(o.port)), { stickyCookie: 'pcsrv' }));
  try {
    const first = await fetchVia(gw.port, false);
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, /^pcsrv=[0-9a-z]+; Path=\/; HttpOnly; SameSite=Lax$/);
    assert.doesNotMatch(setCookie, /127\.0\.0\.1/, 'the cookie does not reveal the address');
    const cookie = setCookie.split(';')[0]!;
    for (let i = 0; i < 9; i++) {
      const again = await fetchVia(gw.port, false, { cookie: `other=1; ${cookie}` });
      assert.equal(again.body, first.body);
      assert.equal(again.headers['set-cookie'], undefined, 'a valid cookie is not set again');
    }
    const without = tally(await load(gw.port, 9, 1));
    assert.deepEqual(Object.keys(without).sort(), ['a', 'b', 'c'], 'without the cookie the pool balances');
  } finally {
    await gw.close();
    for (const o of origins) await o.kill();
  }
});

test('upgrades (WebSocket) are balanced over the pool too, and get the 503 when no server is left', async () => {
  const origins = await startOrigins(['a', 'b']);
  const gw = await startPoolGateway(poolConfig(origins.map((o) => member(o.port)), { healthCheck: HEALTH }));
  try {
    const names = [];
    for (let i = 0; i < 4; i++) names.push(await upgradeVia(gw.port));
    assert.deepEqual(names.sort(), ['a', 'a', 'b', 'b']);
    for (const o of origins) o.health = 500;
    await waitFor(() => gw.logs.lines.filter((l) => l.event === 'server-down').length === 2, 3000, 'both down');
    assert.equal(await upgradeVia(gw.port), 'status 503');
  } finally {
    await gw.close();
    for (const o of origins) await o.kill();
  }
});

test('passive health: consecutive 5xx answers hold a server out for downForMs, then it takes requests again', async () => {
  const [flaky, steady] = await startOrigins(['flaky', 'steady']);
  const gw = await startPoolGateway(poolConfig([member(flaky!.port), member(steady!.port)], { passive: { failures: 3, downForMs: 400 } }));
  const failing = flaky!.server.listeners('request')[0] as (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  flaky!.server.removeAllListeners('request');
  let broken = true;
  flaky!.server.on('request', (req, res) => {
    if (!broken) return failing(req, res);
    flaky!.served++;
    res.writeHead(500, { 'content-length': '4' });
    res.end('oops');
  });
  try {
    const first = tally(await load(gw.port, 12, 1));
    // Round-robin alternates: the flaky server answers 500 three times (passed on: the request reached it), then is out.
    assert.deepEqual(first, { 'status 500': 3, steady: 9 });
    await waitFor(() => gw.logs.lines.some((l) => l.event === 'server-down' && l.reason === 'passive' && l.detail === 'status 500'), 1000, 'passive down event');
    broken = false;
    await new Promise((resolve) => setTimeout(resolve, 450));
    const after = tally(await load(gw.port, 10, 1));
    assert.deepEqual(after, { flaky: 5, steady: 5 }, 'back after downForMs');
    await waitFor(() => gw.logs.lines.some((l) => l.event === 'server-up' && l.reason === 'passive'), 1000, 'passive up event');
  } finally {
    await gw.close();
    await flaky!.kill();
    await steady!.kill();
  }
});
