/**
 * Test/bench helper: request fragments taken from the CRS regression tests (attacks and benign
 * near-misses), decoded the way the rules see them most often (URL-decoded, lower-cased), as byte strings.
 */
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The CRS regression tests: $PORTCULLIS_CRS_TESTS, else ../shared/crs-tests/v3.3.4 beside the repository. */
import { CRS_TESTS_DIR } from '../prerequisites.js';
export { CRS_TESTS_DIR };

function percentDecode(s: string): string {
  return s.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (name.endsWith('.yaml')) yield p;
  }
}

function collect(node: unknown, out: string[]): void {
  if (node === null || node === undefined) return;
  if (Array.isArray(node)) { for (const x of node) collect(x, out); return; }
  if (typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if ((k === 'uri' || k === 'data') && typeof v === 'string') out.push(v);
      else if (k === 'data' && Array.isArray(v)) out.push(v.join('\r\n'));
      else if (k === 'headers' && v && typeof v === 'object') {
        for (const h of Object.values(v)) if (typeof h === 'string') out.push(h);
      } else collect(v, out);
    }
  }
}

/** Distinct byte strings (latin1), capped at `limit`. Empty if the tests are not present. */
export function crsCorpus(limit = 5000): string[] {
  if (!existsSync(CRS_TESTS_DIR)) return [];
  const raw: string[] = [];
  for (const file of walk(CRS_TESTS_DIR)) {
    try { collect(parse(readFileSync(file, 'utf8')), raw); } catch { /* a malformed test file is not our concern here */ }
  }
  const out = new Set<string>();
  for (const r of raw) {
    const bytes = Buffer.from(r, 'utf8').toString('latin1');
    out.add(bytes);
    const decoded = percentDecode(bytes);
    out.add(decoded);
    out.add(decoded.toLowerCase());
    for (const part of decoded.split(/[&?=]/)) if (part) out.add(part);
    if (out.size >= limit) break;
  }
  return [...out].slice(0, limit);
}
