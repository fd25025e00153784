/**
 * @ipMatchFromFile (alias @ipMatchF) — @ipMatch with one address or CIDR per line of a file; blank lines
 * and lines starting with '#' are skipped. A bad line is a load error naming the file and line.
 */
import type { OperatorSpec } from '../types.js';
import { IpPrefixSet } from './ip-prefix-set.js';
import { dataFileNames, readDataFile } from './data-files.js';

export const ipMatchFromFile: OperatorSpec = {
  name: 'ipMatchFromFile',
  aliases: ['ipMatchF'],
  create(param, _macro, ctx) {
    const set = new IpPrefixSet();
    for (const name of dataFileNames(param, 'ipMatchFromFile')) {
      const { path, text } = readDataFile(ctx, name);
      text.split('\n').forEach((raw, i) => {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) return;
        try { set.add(line); } catch (e) { throw new Error(`${path}:${i + 1}: ${(e as Error).message}`); }
      });
    }
    return { evaluate: (_otx, value) => set.has(value) };
  },
};
