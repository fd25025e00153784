/**
 * The transformation registry: every `t:` name ModSecurity v2 knows (plus v3's uppercase), one file
 * each. Lookup is case-insensitive, as in v2 (apr_table_get is case-insensitive).
 */
import type { TransformationSpec } from '../types.js';
import { base64Decode } from './base64-decode.js';
import { base64DecodeExt } from './base64-decode-ext.js';
import { base64Encode } from './base64-encode.js';
import { cmdLine } from './cmd-line.js';
import { compressWhitespace } from './compress-whitespace.js';
import { cssDecode } from './css-decode.js';
import { escapeSeqDecode } from './escape-seq-decode.js';
import { hexDecode } from './hex-decode.js';
import { hexEncode } from './hex-encode.js';
import { htmlEntityDecode } from './html-entity-decode.js';
import { jsDecode } from './js-decode.js';
import { length } from './length.js';
import { lowercase } from './lowercase.js';
import { md5 } from './md5.js';
import { none } from './none.js';
import { normalisePath } from './normalise-path.js';
import { normalisePathWin } from './normalise-path-win.js';
import { parityEven7bit } from './parity-even-7bit.js';
import { parityOdd7bit } from './parity-odd-7bit.js';
import { parityZero7bit } from './parity-zero-7bit.js';
import { removeComments } from './remove-comments.js';
import { removeCommentsChar } from './remove-comments-char.js';
import { removeNulls } from './remove-nulls.js';
import { removeWhitespace } from './remove-whitespace.js';
import { replaceComments } from './replace-comments.js';
import { replaceNulls } from './replace-nulls.js';
import { sha1 } from './sha1.js';
import { sqlHexDecode } from './sql-hex-decode.js';
import { trim } from './trim.js';
import { trimLeft } from './trim-left.js';
import { trimRight } from './trim-right.js';
import { uppercase } from './uppercase.js';
import { urlDecode } from './url-decode.js';
import { urlDecodeUni } from './url-decode-uni.js';
import { urlEncode } from './url-encode.js';
import { utf8toUnicode } from './utf8-to-unicode.js';

export { createUrlDecodeUni, parseUnicodeMapping, type UnicodeMap } from './url-decode-uni.js';
export { urlDecodeNonStrict, type UrlDecodeResult } from './url-decode.js';

const builtIns: readonly TransformationSpec[] = [
  none,
  base64Decode,
  base64DecodeExt,
  base64Encode,
  cmdLine,
  compressWhitespace,
  cssDecode,
  escapeSeqDecode,
  hexDecode,
  hexEncode,
  htmlEntityDecode,
  jsDecode,
  length,
  lowercase,
  md5,
  normalisePath,
  normalisePathWin,
  parityEven7bit,
  parityOdd7bit,
  parityZero7bit,
  removeComments,
  removeCommentsChar,
  removeNulls,
  removeWhitespace,
  replaceComments,
  replaceNulls,
  sha1,
  sqlHexDecode,
  trim,
  trimLeft,
  trimRight,
  uppercase,
  urlDecode,
  urlDecodeUni,
  urlEncode,
  utf8toUnicode,
];

/** Other spellings v2 registers for the same function. */
const aliases: ReadonlyArray<readonly [alias: string, target: TransformationSpec]> = [
  ['normalizePath', normalisePath],
  ['normalizePathWin', normalisePathWin],
];

function buildRegistry(): ReadonlyMap<string, TransformationSpec> {
  const map = new Map<string, TransformationSpec>();
  for (const spec of builtIns) {
    const key = spec.name.toLowerCase();
    if (map.has(key)) throw new Error(`duplicate transformation ${spec.name}`);
    map.set(key, spec);
  }
  for (const [alias, target] of aliases) {
    // The alias is the same function: it keeps the byte claims the engine's filters use.
    map.set(alias.toLowerCase(), { name: alias, transform: target.transform, preimage: target.preimage, triggers: target.triggers });
  }
  return map;
}

/** Every transformation keyed by lower-case name (aliases included). */
export const transformations: ReadonlyMap<string, TransformationSpec> = buildRegistry();

/** Case-insensitive lookup; undefined for an unknown name (the engine makes that a load error). */
export function getTransformation(name: string): TransformationSpec | undefined {
  return transformations.get(name.toLowerCase());
}
