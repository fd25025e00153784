/**
 * Whatever the text, the loader returns a value: mutated versions of the shipped configurations
 * (lines dropped, duplicated, re-indented, characters changed) never make it throw, and every error
 * it returns is a well-formed, one-line ConfigError with a position inside the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatConfigError, parseConfigText } from '../../src/config/load.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A small deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['', ' ', '  ', ':', '- ', '{', '}', '[', ']', '"', "'", '#', '&a ', '*a', '0', '-1', '70000', 'null', 'true', '~', '\t', '!!str ', '/', '::'];

function mutate(text: string, random: () => number): string {
  const lines = text.split('\n');
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * lines.length);
    const line = lines[at] ?? '';
    switch (Math.floor(random() * 5)) {
      case 0: lines.splice(at, 1); break;
      case 1: lines.splice(at, 0, line); break;
      case 2: lines[at] = ` ${line}`; break;
      case 3: lines[at] = line.slice(2); break;
      default: {
        const col = Math.floor(random() * (line.length + 1));
        lines[at] = line.slice(0, col) + PIECES[Math.floor(random() * PIECES.length)] + line.slice(col + 1);
      }
    }
  }
  return lines.join('\n');
}

test('mutated configurations never throw and always give positioned one-line errors', () => {
  const sources = ['config/portcullis.yaml', 'config/examples/alias.yaml', 'config/examples/bridge.yaml', 'config/examples/sniff.yaml']
    .map((f) => readFileSync(join(repo, f), 'utf8'));
  const random = prng(20261121);
  let rejected = 0;
  for (let i = 0; i < 400; i++) {
    const text = mutate(sources[i % sources.length]!, random);
    const lineCount = text.split('\n').length;
    const result = parseConfigText(text, '/nonexistent/dir/fuzz.yaml', { env: {} });
    if (result.ok) continue;
    rejected++;
    assert.ok(result.errors.length > 0);
    for (const e of result.errors) {
      assert.ok(e.line >= 1 && e.line <= lineCount + 1 && e.col >= 1, `position ${e.line}:${e.col} outside the text (case ${i})`);
      assert.equal(typeof e.code, 'string');
      assert.doesNotMatch(formatConfigError(e), /\n/);
    }
  }
  // Most mutations of files naming absent certificates are rejected; the loop did exercise errors.
  assert.ok(rejected > 200, `only ${rejected} of 400 mutations were rejected`);
});
