#!/usr/bin/env node
// render-bridge-rules.mjs ARGS… - runs the bridge rule renderer (src/platform/render-cli.ts) for
// iptables/bridge.sh and bypass.sh: from the build in dist/ when there is one, else from the TypeScript
// source through tsx. Same arguments and exit codes as render-cli (see its header).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(repo, 'dist', 'src', 'platform', 'render-cli.js');
const argv = existsSync(built)
  ? [built, ...process.argv.slice(2)]
  : // tsx from the repository's node_modules by path, so relative paths (-c FILE) keep meaning the caller's cwd
    ['--import', pathToFileURL(join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(repo, 'src', 'platform', 'render-cli.ts'), ...process.argv.slice(2)];
const r = spawnSync(process.execPath, argv, { stdio: 'inherit' });
process.exit(r.status ?? 1);
