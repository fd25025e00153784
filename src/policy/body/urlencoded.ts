import { urlDecodeNonStrict } from '../transformations/url-decode.js';
import { type BodyLimits, type BodyParseResult, DEFAULT_MAX_ARGS, emptyResult } from './result.js';

/**
 * Port of v2 parse_arguments() with the default SecArgumentSeparator '&': a name runs to '=' or
 * '&', a value to '&'; both are URL-decoded without strictness ('+' is a space, invalid %XY stays).
 * A name without '=' gets an empty value, and so does an empty segment ("a&&b" yields an argument
 * with an empty name, as in v2). Arguments past SecArgumentsLimit are skipped, as v2 does.
 *
 * v2 never sets REQBODY_ERROR here; invalid %-escapes only raise URLENCODED_ERROR, reported as
 * `invalidEncodings` by parseUrlencodedCounting for callers that want it.
 */
export function parseUrlencoded(body: string, limits: BodyLimits): BodyParseResult {
  return parseUrlencodedCounting(body, limits).result;
}

export function parseUrlencodedCounting(
  body: string,
  limits: BodyLimits,
  separator = '&',
): { result: BodyParseResult; invalidEncodings: number } {
  const result = emptyResult();
  const maxArgs = limits.maxArgs ?? DEFAULT_MAX_ARGS;
  let invalid = 0;
  const n = body.length;
  let i = 0;
  // The next '=' is remembered across segments so that "a&a&a..." stays linear.
  let eq = -2;
  while (i < n) {
    let sep = body.indexOf(separator, i);
    if (sep === -1) sep = n;
    if (eq !== -1 && eq < i) eq = body.indexOf('=', i);
    let name: string;
    let value: string;
    if (eq === -1 || eq > sep) {
      name = body.slice(i, sep);
      value = '';
    } else {
      name = body.slice(i, eq);
      value = body.slice(eq + 1, sep);
    }
    const dn = urlDecodeNonStrict(name);
    const dv = urlDecodeNonStrict(value);
    invalid += dn.invalid + dv.invalid;
    if (result.args.length < maxArgs) result.args.push([dn.value, dv.value]);
    i = sep + 1;
  }
  return { result, invalidEncodings: invalid };
}
