/**
 * The daemon around bridge mode, outside the lab: a missing CAP_NET_ADMIN stops `portcullis run` with
 * the typed message before anything is opened or installed, and a reload that changes gateway.mode is
 * rejected with the running configuration kept.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Gateway } from '../../../src/daemon/gateway.js';
import { CLI, freePort, REPO, tempDir } from '../../daemon/daemon-fixtures.js';

const bridgeYaml = (table: string): string => `
gateway:
  mode: bridge
  workers: 1
  bridge: { interface: pcnotabridge0, nftTable: ${table} }
sites:
  - name: s
    serverGroups:
      - name: g
        servers: [192.0.2.10]
        services:
          - { name: web, ports: [8080] }
`;

describe('daemon in bridge mode (no lab)', () => {
  const tmp = tempDir('pc-bridge-daemon-');
  after(() => tmp.cleanup());

  it('without CAP_NET_ADMIN: exit 1 with the capability named, nothing installed', { skip: process.getuid?.() === 0 ? false : 'needs root to drop a capability' }, () => {
    const table = `pccap${process.pid}`;
    const file = join(tmp.dir, 'bridge.yaml');
    writeFileSync(file, bridgeYaml(table));
    const r = spawnSync('setpriv', ['--bounding-set', '-net_admin', '--inh-caps', '-net_admin', process.execPath, '--import', 'tsx', CLI, 'run', '-c', file],
      { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /IP_TRANSPARENT needs CAP_NET_ADMIN/);
    const tables = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(tables, new RegExp(table));
  });

  describe('reload that changes gateway.mode', () => {
    let gateway: Gateway;
    let aliasText: string;
    const file = join(tmp.dir, 'alias.yaml');
    before(async () => {
      const port = await freePort();
      aliasText = `
gateway:
  mode: alias
  skipAddressCheck: true
  control: { socket: ${join(tmp.dir, 'c.sock')} }
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            reverseProxy: [{ alias: vip, port: ${port}, rules: [{ priority: 1, serverIp: 127.0.0.1, serverPort: 9 }] }]
`;
      writeFileSync(file, aliasText);
      gateway = await Gateway.start({ file }, { worker: 't', checkAddresses: false, logDestination: pino.destination({ dest: '/dev/null', sync: true }) });
    });
    after(() => gateway.stop());

    it('is rejected, the running mode and listeners stay', async () => {
      const before = gateway.status().listeners.map((l) => l.key);
      const result = await gateway.reload({ file, text: bridgeYaml('pcnever') });
      assert.equal(result.ok, false);
      assert.match(result.errors.join('\n'), /gateway\.mode changed from alias to bridge: restart the daemon/);
      assert.equal(gateway.status().mode, 'alias');
      assert.deepEqual(gateway.status().listeners.map((l) => l.key), before);
      assert.equal((await gateway.reload({ file, text: aliasText })).ok, true, 'the same mode still reloads');
    });
  });
});
