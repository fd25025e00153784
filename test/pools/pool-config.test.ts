/** `pool:` in the configuration: what a good pool becomes, and the exact errors of bad ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConfigError, loadConfigFile, parseConfigText } from '../../src/config/load.js';

function aliasConfig(rule: string): string {
  return `gateway:
  mode: alias
  control: { socket: /tmp/pc-pool-test.sock }
  aliases:
    - { name: vip, device: lo, address: 127.0.0.1/8 }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            reverseProxy:
              - alias: vip
                port: 8080
                rules:
${rule}`;
}

function errorsOf(text: string): string[] {
  const result = parseConfigText(text, 'F');
  assert.equal(result.ok, false, 'the configuration should be rejected');
  return result.ok ? [] : result.errors.map((e) => formatConfigError(e));
}

const RULES = 'sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0]';

test('a pool on an outbound rule: defaults, primaries before backups, serverIp/serverPort mirror the first server', () => {
  const result = parseConfigText(aliasConfig(`                  - priority: 10
                    pool:
                      servers:
                        - { address: 127.0.0.9, port: 9001, backup: true }
                        - { address: 127.0.0.1, port: 9002, weight: 3 }
                      healthCheck: { url: /healthz, expectStatus: 204 }
`), 'F');
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  const rule = result.config.sites[0]!.serverGroups[0]!.services[0]!.reverseProxy[0]!.rules[0]!;
  assert.equal(rule.serverIp, '127.0.0.1');
  assert.equal(rule.serverPort, 9002);
  const pool = rule.pool!;
  assert.equal(pool.algorithm, 'round-robin');
  assert.equal(pool.stickyCookie, null);
  assert.deepEqual(pool.servers.map((s) => [s.address, s.port, s.weight, s.backup]), [['127.0.0.1', 9002, 3, false], ['127.0.0.9', 9001, 1, true]]);
  assert.deepEqual(pool.healthCheck, { url: '/healthz', intervalMs: 5000, timeoutMs: 2000, expectStatus: { min: 204, max: 204 }, rise: 2, fall: 3, host: null });
  assert.deepEqual(pool.passive, { failures: 3, downForMs: 10000 });
  assert.ok(Object.isFrozen(pool.servers[0]), 'frozen like the rest of the configuration');
});

const badCases: Array<{ name: string; rule: string; errors: string[] }> = [
  {
    name: 'pool and serverIp together',
    rule: `                  - priority: 10
                    serverIp: 127.0.0.1
                    pool: { servers: [{ address: 127.0.0.1, port: 81 }] }
`,
    errors: [`F:17:31: ${RULES}.serverIp: give serverIp or a pool, not both (the pool lists the servers)`],
  },
  {
    name: 'neither serverPort nor pool',
    rule: `                  - { priority: 10, serverIp: 127.0.0.1 }
`,
    errors: [`F:16:21: ${RULES}.serverPort: required key "serverPort" is missing`],
  },
  {
    name: 'only backups, bad algorithm, bad status range, unknown key',
    rule: `                  - priority: 10
                    pool:
                      algorithm: random
                      servers:
                        - { address: 127.0.0.1, port: 81, backup: true }
                      healthCheck: { expectStatus: "399-200", rise: 0, path: /x }
`,
    errors: [
      `F:18:34: ${RULES}.pool.algorithm: algorithm must be one of round-robin, least-connections, client-ip-hash (got string "random")`,
      `F:21:52: ${RULES}.pool.healthCheck.expectStatus: expectStatus must be a status such as 200 or a range such as "200-399" (100–599) (got "399-200")`,
      `F:21:69: ${RULES}.pool.healthCheck.rise: rise must be an integer from 1 to 100 (got 0)`,
      `F:21:72: ${RULES}.pool.healthCheck.path: unknown key "path"; allowed: url, intervalMs, timeoutMs, expectStatus, rise, fall, host`,
    ],
  },
  {
    name: 'every server a backup',
    rule: `                  - priority: 10
                    pool:
                      servers:
                        - { address: 127.0.0.1, port: 81, backup: true }
`,
    errors: [`F:19:25: ${RULES}.pool.servers: a pool needs at least one server with backup: false (backups only stand in for primaries)`],
  },
  {
    name: 'the same server twice, a host name instead of an address, timeout above interval',
    rule: `                  - priority: 10
                    pool:
                      servers:
                        - { address: 127.0.0.1, port: 81 }
                        - { address: 127.0.0.1, port: 81, weight: 2 }
                      healthCheck: { intervalMs: 1000, timeoutMs: 5000 }
                  - priority: 20
                    pool: { servers: [{ address: origin.local, port: 81 }], stickyCookie: "bad cookie" }
`,
    errors: [
      `F:20:27: ${RULES}.pool.servers[1]: server 127.0.0.1 port 81 is listed twice (first as servers[0])`,
      `F:21:67: ${RULES}.pool.healthCheck.timeoutMs: timeoutMs (5000) must not exceed intervalMs (1000)`,
      `F:23:50: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[1].pool.servers[0].address: address must be an IPv4 or IPv6 address (got "origin.local")`,
      `F:23:91: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[1].pool.stickyCookie: stickyCookie must be a cookie name (letters, digits and !#$%&'*+.^_\`|~-) (got "bad cookie")`,
    ],
  },
];

for (const c of badCases) {
  test(`bad pool: ${c.name}`, () => {
    assert.deepEqual(errorsOf(aliasConfig(c.rule)), c.errors);
  });
}

test('a service pool belongs to bridge mode, and has no sticky cookie there', () => {
  const alias = aliasConfig(`                  - { priority: 10, serverIp: 127.0.0.1, serverPort: 81 }
`).replace('          - name: web\n', '          - name: web\n            pool: { servers: [{ address: 127.0.0.1, port: 81 }] }\n');
  assert.deepEqual(errorsOf(alias), [
    'F:12:19: sites[0].serverGroups[0].services[0].pool: a service pool applies to bridge mode only (gateway.mode is "alias"); in alias mode give the pool to an outbound rule',
  ]);
  const bridge = `gateway:
  mode: bridge
  control: { socket: /tmp/pc-pool-test.sock }
sites:
  - name: s
    serverGroups:
      - name: g
        servers: [10.20.0.10]
        services:
          - name: web
            ports: [80]
            pool:
              stickyCookie: srv
              servers: [{ address: 10.20.0.11, port: 80, backup: true }, { address: 10.20.0.12, port: 80 }]
`;
  assert.deepEqual(errorsOf(bridge), [
    'F:13:15: sites[0].serverGroups[0].services[0].pool.stickyCookie: unknown key "stickyCookie"; allowed: algorithm, servers, healthCheck, passive',
  ]);
  const ok = parseConfigText(bridge.replace('              stickyCookie: srv\n', ''), 'F');
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.errors));
  assert.equal(ok.config.sites[0]!.serverGroups[0]!.services[0]!.pool!.servers[1]!.address, '10.20.0.11');
});

test('config/examples/pools.yaml loads', () => {
  const file = new URL('../../config/examples/pools.yaml', import.meta.url).pathname;
  const result = loadConfigFile(file);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  const rules = result.config.sites[0]!.serverGroups[0]!.services[0]!.reverseProxy[0]!.rules;
  assert.deepEqual(rules.map((r) => [r.priority, r.pool?.algorithm, r.pool?.servers.length]), [[10, 'least-connections', 2], [20, 'round-robin', 3]]);
  assert.equal(rules[0]!.pool!.stickyCookie, 'PCSRV');
});
