/**
 * @pmFromFile (alias @pmf) — @pm with phrases read from files, one per line, as ModSecurity v2: each line
 * goes through parse_pm_content, is trimmed, and empty lines and lines starting with '#' are skipped.
 * Several files may be named; relative names resolve against the rule file's directory.
 */
import type { OperatorSpec } from '../types.js';
import { PhraseSet, parsePmContent } from './phrase-set.js';
import { phraseOperator } from './pm.js';
import { dataFileNames, readDataFile } from './data-files.js';
import { utf8Bytes } from './byte-string.js';

export function phrasesFromText(text: string): string[] {
  const phrases: string[] = [];
  const lines = utf8Bytes(text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    // v2 reads lines with their "\n" (apr_file_gets), which parse_pm_content sees too.
    const line = i < lines.length - 1 ? lines[i] + '\n' : lines[i]!;
    if (line.length === 0) continue;
    let processed: string;
    try { processed = parsePmContent(line); } catch { processed = line; }
    const phrase = processed.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
    if (phrase.length === 0 || phrase.startsWith('#')) continue;
    phrases.push(phrase);
  }
  return phrases;
}

export const pmFromFile: OperatorSpec = {
  name: 'pmFromFile',
  aliases: ['pmf'],
  create(param, _macro, ctx) {
    const phrases: string[] = [];
    for (const name of dataFileNames(param, 'pmFromFile')) {
      const { text } = readDataFile(ctx, name);
      phrases.push(...phrasesFromText(text));
    }
    return phraseOperator(new PhraseSet(phrases));
  },
};
