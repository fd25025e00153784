import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadGatewayConfig } from '../../src/daemon/gateway.js';
import { demoOriginAddress } from '../../src/demo/run-demo.js';
import type { EchoReply } from '../../src/demo/origin.js';
import { REPO, collect, configYaml, freePort, get, spawnCli, tempDir, waitFor } from '../daemon/daemon-fixtures.js';

test('npm start\'s configuration puts the demo origin where the gateway sends traffic', () => {
  const config = loadGatewayConfig({ file: join(REPO, 'config/portcullis.yaml') });
  assert.deepEqual(demoOriginAddress(config), { host: '127.0.0.1', port: 8081 });
});

test('portcullis demo: instructions, a proxied page, /echo through the gateway, a blocked attack, Ctrl-C stops both', async () => {
  const tmp = tempDir();
  const [gatewayPort, originPort] = [await freePort(), await freePort()];
  const file = join(tmp.dir, 'demo.yaml');
  const notADirectory = join(tmp.dir, 'plain-file');
  writeFileSync(notADirectory, '');
  // Like config/portcullis.yaml (active group, CRS paranoia 1) on ports of its own.
  writeFileSync(
    file,
    // A control socket that cannot be created (as for a normal user and /run/portcullis): the demo runs anyway.
    configYaml({ socket: join(notADirectory, 'control.sock'), logFile: join(tmp.dir, 'demo.log'), listeners: [{ port: gatewayPort, originPort }] })
      .replace('operationMode: simulation', 'operationMode: active')
      .replace('        services:', '        policies:\n          crs: { paranoiaLevel: 1 }\n        services:'),
  );
  const demo = spawnCli(['demo', '-c', file]);
  try {
    const out = await waitFor('the instructions', () => (demo.output().stdout.includes('Ctrl-C stops') ? demo.output().stdout : undefined), 60_000);
    assert.match(out, new RegExp(`demo origin  http://127\\.0\\.0\\.1:${originPort}/`));
    assert.match(out, new RegExp(`curl http://127\\.0\\.0\\.1:${gatewayPort}/\\n`));
    assert.match(out, new RegExp(`curl "http://127\\.0\\.0\\.1:${gatewayPort}/\\?q=<script>alert\\(1\\)</script>"`));

    const page = await get(gatewayPort, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /Hello from the demo origin/);

    const echo = JSON.parse((await get(gatewayPort, '/echo?x=1')).body) as EchoReply;
    assert.equal(echo.method, 'GET');
    assert.equal(echo.path, '/echo?x=1');
    assert.equal(echo.peer.address, '127.0.0.1');
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1', 'the gateway added the client address');

    const attack = await get(gatewayPort, `/?q=${encodeURIComponent('<script>alert(1)</script>')}`);
    assert.equal(attack.status, 403, 'the policy engine blocked the attack');
  } finally {
    demo.kill('SIGINT');
  }
  const end = await collect(demo);
  assert.equal(end.code, 0, end.stderr);
  assert.match(end.stdout, /stopping the gateway and the demo origin/);
  assert.ok(end.stderr.includes(`cannot create the control socket directory ${notADirectory}`), end.stderr);
  assert.match(end.stderr, /continuing without a control socket/);
  await assert.rejects(get(gatewayPort, '/'), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  await assert.rejects(get(originPort, '/'), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  tmp.cleanup();
});
