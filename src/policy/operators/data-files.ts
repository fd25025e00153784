/**
 * Data files named by @pmFromFile / @ipMatchFromFile: relative names resolve against the directory of the
 * rule file (as ModSecurity v2 does with the rule's filename); several names may be given, separated by
 * whitespace. Remote (http/https) files are not fetched: the engine does no network I/O.
 */
import { isAbsolute, join } from 'node:path';
import type { LoadContext } from '../types.js';

export function dataFileNames(param: string, operator: string): string[] {
  const names = param.split(/[ \t\n\r\f\v]+/).filter((n) => n !== '');
  if (names.length === 0) throw new Error(`missing file name for operator @${operator}`);
  for (const n of names) {
    if (/^https?:\/\//i.test(n)) throw new Error(`@${operator} cannot load "${n}": remote data files are not supported (download it and name the local file)`);
  }
  return names;
}

export function readDataFile(ctx: LoadContext, name: string): { path: string; text: string } {
  const path = isAbsolute(name) ? name : join(ctx.baseDir, name);
  return { path, text: ctx.readFile(path) };
}
