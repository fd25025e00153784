/**
 * docs/BENCHMARKS.md is shared by several benchmarks. Each owns one section between
 * `<!-- BEGIN name -->` and `<!-- END name -->` and regenerates only that; the rest of the file
 * (other sections, hand-written text) is kept as it is.
 */
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';

const HEADER = '# Benchmarks\n\nEach section below is written by the benchmark named in it; rerun that command to refresh it.\n';

export function replaceSection(text: string, name: string, body: string): string {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`section name must be [a-z0-9-]+, got ${JSON.stringify(name)}`);
  const begin = `<!-- BEGIN ${name} -->`;
  const end = `<!-- END ${name} -->`;
  const block = `${begin}\n${body.trimEnd()}\n${end}`;
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b === -1 && e === -1) return `${text.trimEnd()}\n\n${block}\n`;
  if (b === -1 || e === -1 || e < b) throw new Error(`section ${name}: unbalanced markers in the file; fix them by hand`);
  return text.slice(0, b) + block + text.slice(e + end.length);
}

/** Rewrites one section of `file` (created with a short header when missing); atomic rename. */
export function writeSection(file: string, name: string, body: string): void {
  const before = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, replaceSection(before, name, body));
  renameSync(tmp, file);
}
