/**
 * @strmatch — case-sensitive substring search for a constant parameter (no macros), which goes through
 * parse_pm_content like @pm (|hex|, escapes). ModSecurity v2 precompiles it (apr_strmatch).
 */
import type { OperatorSpec } from '../types.js';
import { parsePmContent } from './phrase-set.js';
import { utf8Bytes } from './byte-string.js';

export const strmatch: OperatorSpec = {
  name: 'strmatch',
  create(param) {
    const needle = parsePmContent(utf8Bytes(param));
    return { evaluate: (_otx, value) => value.includes(needle) };
  },
};
