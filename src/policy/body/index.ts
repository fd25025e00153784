/**
 * Request-body processors (REQBODY_PROCESSOR): URLENCODED, MULTIPART, JSON and XML, each a port of
 * ModSecurity v2's behaviour in its own file. The engine calls parseRequestBody once per request
 * with the buffered body as a byte string.
 *
 * An empty body yields an empty result without error for every processor: v2 only starts a body
 * processor when the request has a body.
 */
import { parseJson } from './json.js';
import { parseMultipart } from './multipart.js';
import { type BodyLimits, type BodyParseResult, type BodyProcessorName, emptyResult } from './result.js';
import { parseUrlencoded } from './urlencoded.js';
import { parseXml } from './xml.js';

export type { BodyFile, BodyLimits, BodyParseResult, BodyProcessorName, MultipartFlags } from './result.js';
export { DEFAULT_MAX_ARGS, DEFAULT_MAX_JSON_DEPTH } from './result.js';
export { parseUrlencodedCounting } from './urlencoded.js';

type Processor = (body: string, contentType: string, limits: BodyLimits) => BodyParseResult;

const processors: Readonly<Record<BodyProcessorName, Processor>> = {
  URLENCODED: (body, _contentType, limits) => parseUrlencoded(body, limits),
  MULTIPART: parseMultipart,
  JSON: (body, _contentType, limits) => parseJson(body, limits),
  XML: (body) => parseXml(body),
};

/**
 * Parses `body` (a latin1 byte string) with the named processor. Never throws on any input: a
 * malformed body is reported in `error` (REQBODY_ERROR_MSG) with whatever v2 would still expose.
 */
export function parseRequestBody(
  processor: BodyProcessorName,
  body: string,
  contentType: string,
  limits: BodyLimits,
): BodyParseResult {
  if (body.length === 0) {
    const result = emptyResult();
    if (processor === 'XML') {
      result.xmlText = [];
      result.xmlAttributes = [];
    }
    return result;
  }
  return processors[processor](body, contentType, limits);
}
