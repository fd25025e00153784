/**
 * The operator registry: every built-in SecLang operator, keyed by lower-case name and alias. An operator
 * not in this list is a load error (see the rule parser), never a silent pass. Operators that need
 * something Portcullis does not provide are listed too, as specs that fail to load with a reason.
 */
import type { OperatorSpec } from '../types.js';
import { rx } from './rx.js';
import { pm } from './pm.js';
import { pmFromFile } from './pm-from-file.js';
import { streq } from './streq.js';
import { contains } from './contains.js';
import { containsWord } from './contains-word.js';
import { beginsWith } from './begins-with.js';
import { endsWith } from './ends-with.js';
import { within } from './within.js';
import { strmatch } from './strmatch.js';
import { eq } from './eq.js';
import { ge } from './ge.js';
import { gt } from './gt.js';
import { le } from './le.js';
import { lt } from './lt.js';
import { ipMatch } from './ip-match.js';
import { ipMatchFromFile } from './ip-match-from-file.js';
import { detectSQLi } from './detect-sqli.js';
import { detectXSS } from './detect-xss.js';
import { validateByteRange } from './validate-byte-range.js';
import { validateUrlEncoding } from './validate-url-encoding.js';
import { validateUtf8Encoding } from './validate-utf8-encoding.js';
import { unconditionalMatch } from './unconditional-match.js';
import { noMatch } from './no-match.js';
import { verifyCC } from './verify-cc.js';
import { verifySSN } from './verify-ssn.js';
import { verifyCPF } from './verify-cpf.js';
import { geoLookup } from './geo-lookup.js';
import { rbl } from './rbl.js';
import { validateDTD } from './validate-dtd.js';
import { validateSchema } from './validate-schema.js';
import { inspectFile } from './inspect-file.js';
import { gsbLookup } from './gsb-lookup.js';
import { rsub } from './rsub.js';
import { validateHash } from './validate-hash.js';
import { fuzzyHash } from './fuzzy-hash.js';

export const builtinOperators: readonly OperatorSpec[] = [
  rx, pm, pmFromFile, streq, contains, containsWord, beginsWith, endsWith, within, strmatch,
  eq, ge, gt, le, lt, ipMatch, ipMatchFromFile, detectSQLi, detectXSS,
  validateByteRange, validateUrlEncoding, validateUtf8Encoding, unconditionalMatch, noMatch,
  verifyCC, verifySSN, verifyCPF, geoLookup, rbl,
  validateDTD, validateSchema, inspectFile, gsbLookup, rsub, validateHash, fuzzyHash,
];

function buildRegistry(specs: readonly OperatorSpec[]): ReadonlyMap<string, OperatorSpec> {
  const map = new Map<string, OperatorSpec>();
  for (const spec of specs) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      const key = name.toLowerCase();
      if (map.has(key)) throw new Error(`operator name registered twice: ${name}`);
      map.set(key, spec);
    }
  }
  return map;
}

/** Keyed by lower-case name and lower-case alias. */
export const operators: ReadonlyMap<string, OperatorSpec> = buildRegistry(builtinOperators);

/** Case-insensitive lookup by name or alias ("pmf", "ipMatchF" …), without '@'. */
export function getOperator(name: string): OperatorSpec | undefined {
  return operators.get(name.toLowerCase());
}

export { IpPrefixSet } from './ip-prefix-set.js';
export { PhraseSet, parsePmContent } from './phrase-set.js';
