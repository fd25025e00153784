/** The engine does no network I/O: nothing under src/policy may import node:net/http/https/tls/dgram. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../src/policy/', import.meta.url));

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
