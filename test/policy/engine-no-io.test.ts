/** The engine does no network I/O: nothing under src/policy may import node:net/http/https/tls/dgram. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's src/policy, also when this test runs compiled from dist/. */
function policySources(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return join(dir, 'src', 'policy');
}

const root = policySources();

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no file under src/policy imports a network module', () => {
  const files = walk(root);
  assert.ok(files.length > 20, `expected the engine sources, found ${files.length} files`);
  const forbidden = /\bfrom\s+['"](?:node:)?(?:net|http|https|http2|tls|dgram)['"]|\bimport\(\s*['"](?:node:)?(?:net|http|https|http2|tls|dgram)['"]|\brequire\(\s*['"](?:node:)?(?:net|http|https|http2|tls|dgram)['"]/;
  const offenders = files.filter((f) => forbidden.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});
