/**
 * `portcullis check-config`: exit codes 0 / 1 / 2, output formats, and the default file. Called
 * in-process with captured streams, and once as a real child process to check the exit status.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkConfigCommand } from '../../src/cli/check-config.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-check-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await checkConfigCommand(argv, {
    stdout: { write: (s: string) => { stdout += s; return true; } },
    stderr: { write: (s: string) => { stderr += s; return true; } },
  });
  return { code, stdout, stderr };
}

const BAD = `gateway:
  mode: alias
  prot: 1
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [0]
`;

test('valid file: exit 0 and a one-line summary', async () => {
  const r = await run(['-c', join(repo, 'config/portcullis.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${join(repo, 'config/portcullis.yaml')}: OK (mode alias, 1 site, 1 server group, 1 listener)\n`);
  assert.equal(r.stderr, '');
});

test('summary counts sites, server groups and distinct listeners', async () => {
  const file = join(dir, 'two.yaml');
  writeFileSync(file, `gateway:
  mode: alias
  aliases: [{ name: a, device: lo, address: 127.0.0.1/8 }, { name: b, device: lo, address: 127.0.0.2/8 }]
sites:
  - name: one
    serverGroups:
      - name: g1
        services:
          - name: web
            ports: [80, 81]
            reverseProxy:
              - { alias: a, port: 80, rules: [{ priority: 1, serverIp: 127.0.0.1, serverPort: 1 }] }
              - { alias: b, port: 80, rules: [{ priority: 1, serverIp: 127.0.0.1, serverPort: 1 }] }
      - name: g2
        services:
          - name: web
            ports: [80, 81]
            reverseProxy:
              - { alias: a, port: 80, rules: [{ priority: 1, serverIp: 127.0.0.1, serverPort: 2 }] }
              - { alias: a, port: 81, rules: [{ priority: 1, serverIp: 127.0.0.1, serverPort: 2 }] }
  - name: two
    serverGroups:
      - name: g3
        services:
          - name: web
            ports: [82]
            reverseProxy: [{ alias: b, port: 82, rules: [{ priority: 1, serverIp: 127.0.0.1, serverPort: 3 }] }]
`);
  const r = await run(['--config', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${file}: OK (mode alias, 2 sites, 3 server groups, 4 listeners)\n`);
});

test('invalid file: exit 1, every error on its own line on stderr, nothing else', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, BAD);
  const r = await run(['-c', file]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, [
    `${file}:2:9: gateway.mode: mode alias needs at least one reverseProxy entry (sites[].serverGroups[].services[].reverseProxy); none is configured`,
    `${file}:3:3: gateway.prot: unknown key "prot"; allowed: mode, workers, log, alerts, control, aliases, bridge, sniff, nfqueue, limits, timeouts, blockPage, crs, skipAddressCheck`,
    `${file}:10:21: sites[0].serverGroups[0].services[0].ports[0]: ports[0] must be an integer from 1 to 65535 (got 0)`,
    '',
  ].join('\n'));
});

test('--json prints {ok, errors} for an invalid file and {ok, summary} for a valid one', async () => {
  const file = join(dir, 'bad-json.yaml');
  writeFileSync(file, BAD);
  const bad = await run(['--json', '-c', file]);
  assert.equal(bad.code, 1);
  const parsed = JSON.parse(bad.stdout) as { ok: boolean; errors: Array<{ line: number; col: number; path: string; code: string }> };
  assert.equal(parsed.ok, false);
  assert.deepEqual(parsed.errors.map((e) => [e.line, e.col, e.path, e.code]), [
    [2, 9, 'gateway.mode', 'MODE_REQUIREMENT'],
    [3, 3, 'gateway.prot', 'UNKNOWN_KEY'],
    [10, 21, 'sites[0].serverGroups[0].services[0].ports[0]', 'OUT_OF_RANGE'],
  ]);

  const good = await run(['-c', join(repo, 'config/portcullis.yaml'), '--json']);
  assert.equal(good.code, 0);
  assert.deepEqual(JSON.parse(good.stdout), {
    ok: true, file: join(repo, 'config/portcullis.yaml'),
    summary: { mode: 'alias', sites: 1, serverGroups: 1, listeners: 1 }, errors: [],
  });
});

test('usage errors exit 2: unknown flag, missing -c value, stray argument', async () => {
  for (const argv of [['--frobnicate'], ['-c'], ['config.yaml']]) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, /^portcullis check-config: .+\n\nUsage: portcullis check-config/);
    assert.equal(r.stdout, '');
  }
  const r = await run(['--frobnicate']);
  assert.match(r.stderr, /unknown option "--frobnicate"/);
});

test('--help prints the usage and exits 0', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: portcullis check-config \[-c FILE\] \[--json\] \[--help\]/);
  assert.match(r.stdout, /Exit codes: 0 valid, 1 invalid/);
});

test('default file: $PORTCULLIS_CONFIG, else config/portcullis.yaml in the working directory (child process exit codes)', () => {
  const work = join(dir, 'cwd');
  mkdirSync(join(work, 'config'), { recursive: true });
  copyFileSync(join(repo, 'config/portcullis.yaml'), join(work, 'config/portcullis.yaml'));
  const moduleUrl = pathToFileURL(join(repo, 'src/cli/check-config.ts')).href;
  const script = `import(${JSON.stringify(moduleUrl)}).then(async (m) => { process.exitCode = await m.checkConfigCommand(process.argv.slice(1), process); });`;
  // tsx is resolved from the repository, since the child runs in a directory without node_modules.
  const tsx = import.meta.resolve('tsx');
  const spawn = (argv: string[], extraEnv: Record<string, string> = {}) => spawnSync(process.execPath, ['--import', tsx, '-e', script, '--', ...argv], {
    cwd: work, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', PORTCULLIS_CONFIG: '', ...extraEnv },
  });
  const ok = spawn([]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'config/portcullis.yaml: OK (mode alias, 1 site, 1 server group, 1 listener)\n');

  writeFileSync(join(work, 'config/portcullis.yaml'), BAD);
  const bad = spawn([]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^config\/portcullis\.yaml:3:3: gateway\.prot: unknown key "prot"/m);

  const usage = spawn(['--nope']);
  assert.equal(usage.status, 2);

  // $PORTCULLIS_CONFIG replaces the default (as for every other command); -c still wins over it.
  copyFileSync(join(repo, 'config/portcullis.yaml'), join(work, 'good.yaml'));
  const fromEnv = spawn([], { PORTCULLIS_CONFIG: 'good.yaml' });
  assert.equal(fromEnv.status, 0, fromEnv.stderr);
  assert.equal(fromEnv.stdout, 'good.yaml: OK (mode alias, 1 site, 1 server group, 1 listener)\n');
  assert.equal(spawn(['-c', 'config/portcullis.yaml'], { PORTCULLIS_CONFIG: 'good.yaml' }).status, 1);
});
