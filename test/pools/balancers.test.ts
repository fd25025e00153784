/** The balancers and the ring on their own: exact sequences where the algorithm defines one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolMember } from '../../src/config/types.js';
import type { Upstream } from '../../src/pipeline/upstream-pools.js';
import { clientIpHash } from '../../src/pools/balancers/client-ip-hash.js';
import { leastConnections } from '../../src/pools/balancers/least-connections.js';
import { weightedRoundRobin } from '../../src/pools/balancers/weighted-round-robin.js';
import { HEALTH_LOG_CAPACITY, HealthLog, healthLogReply } from '../../src/pools/health-log.js';
import { PoolServer } from '../../src/pools/pool-server.js';
import { cookieValue } from '../../src/pools/sticky-cookie.js';

const POS = { file: '/t.yaml', line: 1, col: 1 };

function servers(specs: ReadonlyArray<[string, number]>): PoolServer[] {
  return specs.map(([name, weight], i) => {
    const member: PoolMember = { address: `10.0.0.${i + 1}`, port: 80, weight, backup: false, pos: POS };
    // Balancers never touch the upstream; the label is all the tests look at.
    return new PoolServer(member, { label: name } as unknown as Upstream, i);
  });
}

const names = (list: readonly (PoolServer | null)[]): string => list.map((s) => (s === null ? '-' : (s.upstream.label))).join('');

test('smooth weighted round-robin spreads 5:1:1 as nginx does (a a b a c a a)', () => {
  const s = servers([['a', 5], ['b', 1], ['c', 1]]);
  const wrr = weightedRoundRobin(s);
  const picks = Array.from({ length: 14 }, () => wrr.choose(0, '', null));
  assert.equal(names(picks), 'aabacaaaabacaa');
});

test('weighted round-robin skips a server that is down and returns null when all are', () => {
  const s = servers([['a', 2], ['b', 1]]);
  const wrr = weightedRoundRobin(s);
  s[0]!.up = false;
  assert.equal(names(Array.from({ length: 4 }, () => wrr.choose(0, '', null))), 'bbbb');
  s[1]!.passiveDownUntil = Date.now() + 60_000;
  assert.equal(wrr.choose(Date.now(), '', null), null);
  assert.equal(wrr.choose(0, '', new Set([s[1]!])), null, 'a tried server is not chosen again');
});

test('least-connections takes the server with the fewest requests in flight per weight', () => {
  const s = servers([['a', 1], ['b', 1], ['c', 2]]);
  const lc = leastConnections(s);
  s[0]!.active = 3; s[1]!.active = 1; s[2]!.active = 3;
  assert.equal(lc.choose(0, '', null)!.upstream.label, 'b');
  s[1]!.active = 2; // a 3/1, b 2/1, c 3/2 → c
  assert.equal(lc.choose(0, '', null)!.upstream.label, 'c');
  s[0]!.active = 0; s[1]!.active = 0; s[2]!.active = 0;
  const idle = new Set(Array.from({ length: 3 }, () => lc.choose(0, '', null)!.upstream.label));
  assert.equal(idle.size, 3, 'ties rotate instead of always taking the first server');
});

test('client-ip hash: one client, one server; a server going down moves only its own clients', () => {
  const s = servers([['a', 1], ['b', 1], ['c', 1]]);
  const ring = clientIpHash(s);
  const clients = Array.from({ length: 600 }, (_, i) => `192.0.${i >> 8}.${i & 255}`);
  const before = clients.map((ip) => ring.choose(0, ip, null)!.upstream.label);
  assert.deepEqual(clients.map((ip) => ring.choose(0, ip, null)!.upstream.label), before, 'stable');
  for (const name of ['a', 'b', 'c']) {
    const share = before.filter((n) => n === name).length / clients.length;
    assert.ok(share > 0.2 && share < 0.47, `share of ${name} is ${share}`);
  }
  s[1]!.up = false;
  const after = clients.map((ip) => ring.choose(0, ip, null)!.upstream.label);
  for (let i = 0; i < clients.length; i++) {
    if (before[i] !== 'b') assert.equal(after[i], before[i], `${clients[i]} moved although its server is up`);
    else assert.notEqual(after[i], 'b');
  }
});

test('the health log keeps exactly the last 3000 entries, oldest first, and never grows', () => {
  const log = new HealthLog();
  assert.equal(log.capacity, HEALTH_LOG_CAPACITY);
  assert.equal(HEALTH_LOG_CAPACITY, 3000);
  const total = 3000 * 2 + 123;
  for (let i = 1; i <= total; i++) {
    log.append({ time: i, gateway: '127.0.0.1:1', server: '127.0.0.1:2', url: `http://127.0.0.1:2/${i}`, status: 200, error: null, ok: true, latencyMs: 1 });
    if (i === 10) assert.deepEqual(log.entries().map((e) => e.time), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  }
  const all = log.entries();
  assert.equal(all.length, 3000);
  assert.equal(log.size, 3000);
  assert.deepEqual(all.map((e) => e.time), Array.from({ length: 3000 }, (_, i) => total - 3000 + 1 + i));
  assert.deepEqual(all.map((e) => e.seq), all.map((e) => e.time), 'sequence numbers follow the appends');
  assert.equal((log as unknown as { slots: unknown[] }).slots.length, 3000, 'the slot array stays at its capacity');
  assert.deepEqual(log.entries(total - 2).map((e) => e.time), [total - 1, total]);
  assert.equal(log.entries(total).length, 0);
  assert.equal(log.entries(5).length, 3000, 'a reader the ring overtook gets what is left');
  const reply = healthLogReply(log, { cmd: 'health-log', after: total - 1 });
  assert.deepEqual({ ...reply, entries: reply.entries.map((e) => e.seq) }, { ok: true, capacity: 3000, lastSeq: total, entries: [total] });
  assert.throws(() => new HealthLog(0), RangeError);
});

test('cookieValue finds the named cookie and nothing that merely contains its name', () => {
  assert.equal(cookieValue('pcsrv=abc', 'pcsrv'), 'abc');
  assert.equal(cookieValue('x=1; pcsrv=abc; y=2', 'pcsrv'), 'abc');
  assert.equal(cookieValue('xpcsrv=1;pcsrv=z', 'pcsrv'), 'z');
  assert.equal(cookieValue('xpcsrv=1; pcsrvx=2', 'pcsrv'), null);
  assert.equal(cookieValue(undefined, 'pcsrv'), null);
});
