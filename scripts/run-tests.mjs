#!/usr/bin/env node
// Runs every test file under test/ (or the paths given) with node:test, TypeScript loaded through tsx.
// Node 20's --test does not expand globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [DIR|FILE ...]
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const e of readdirSync(p).sort()) {
      if (e === 'node_modules' || e === 'fixtures') continue;
      collect(join(p, e), out);
    }
  } else if (/\.test\.(ts|mjs|js)$/.test(p)) out.push(p);
}

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = [];
for (const r of roots) collect(resolve(r), files);
if (files.length === 0) {
  console.error('run-tests: no test files found under', roots.join(' '));
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: '' },
});
process.exit(r.status ?? 1);
