/**
 * @pm — case-insensitive phrase match (Aho-Corasick) over space-separated phrases, as ModSecurity v2:
 * the parameter goes through parse_pm_content (quotes, |hex|, \: escapes; on error the raw text is used),
 * then splits on whitespace. An empty value never matches. With `capture`, TX.0 is the phrase found.
 */
import type { OperatorSpec, Operator } from '../types.js';
import { PhraseSet, parsePmContent } from './phrase-set.js';
import { utf8Bytes } from './byte-string.js';
import { phrasesRequiredBytes } from '../regex/required-bytes.js';
import { PHRASE_BATCH_MIN_SUBJECT, type PhraseBatch } from './phrase-batch.js';

export function phraseOperator(set: PhraseSet): Operator {
  // Every match holds a whole phrase, so a value without any phrase's rarest byte cannot match
  // (e.g. the Java class names of 944130 all contain '.'): lets the engine skip it (value-filter.ts).
  const requiredBytes = phrasesRequiredBytes(set.phrases);
  // The batch this set joined (phrase-batches.ts), which answers "no phrase here" for large values.
  let batch: PhraseBatch | null = null;
  let bit = 0;
  return {
    requiredBytes,
    phrases: set,
    joinPhraseBatch(b: PhraseBatch, index: number) {
      batch = b;
      bit = 1 << index;
    },
    evaluate(otx, value) {
      if (value.length === 0) return false;
      if (batch !== null && value.length >= PHRASE_BATCH_MIN_SUBJECT && (batch.answer(value) & bit) === 0) return false;
      const found = set.search(value);
      if (found === null) return false;
      if (otx.capturing) otx.setCapture(0, found);
      return true;
    },
  };
}

export const pm: OperatorSpec = {
  name: 'pm',
  create(param) {
    const raw = utf8Bytes(param);
    if (raw.length === 0) throw new Error("missing parameter for operator 'pm'");
    let content: string;
    try { content = parsePmContent(raw); } catch { content = raw; }
    const phrases = content.split(/[ \t\n\v\f\r]+/).filter((p) => p.length > 0);
    return phraseOperator(new PhraseSet(phrases));
  },
};
