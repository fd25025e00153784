/** Shapes returned by the request-body processors (see index.ts). All strings are byte strings. */

export type BodyProcessorName = 'URLENCODED' | 'MULTIPART' | 'JSON' | 'XML';

/** One uploaded file part (FILES, FILES_NAMES, FILES_SIZES, FILES_COMBINED_SIZE). */
export interface BodyFile {
  /** The part's Content-Disposition name (FILES_NAMES value, FILES key). */
  field: string;
  /** The part's Content-Disposition filename (FILES value). */
  filename: string;
  /** Bytes of file content (FILES_SIZES). */
  size: number;
  /** The part's Content-Type header, '' when absent. */
  contentType: string;
}

/** ModSecurity v2's multipart flags, 0 or 1 each, plus the per-part data CRS inspects. */
export interface MultipartFlags {
  MULTIPART_STRICT_ERROR: number;
  MULTIPART_UNMATCHED_BOUNDARY: number;
  MULTIPART_BOUNDARY_QUOTED: number;
  MULTIPART_BOUNDARY_WHITESPACE: number;
  MULTIPART_DATA_BEFORE: number;
  MULTIPART_DATA_AFTER: number;
  MULTIPART_HEADER_FOLDING: number;
  MULTIPART_LF_LINE: number;
  MULTIPART_MISSING_SEMICOLON: number;
  MULTIPART_INVALID_QUOTING: number;
  MULTIPART_INVALID_PART: number;
  MULTIPART_INVALID_HEADER_FOLDING: number;
  MULTIPART_FILE_LIMIT_EXCEEDED: number;
  MULTIPART_CRLF_LF_LINES: number;
  /** Raw header lines (line ending removed) of every accepted part, in order (MULTIPART_PART_HEADERS). */
  partHeaders: string[];
  /**
   * The same lines keyed by the part's name, because v2's MULTIPART_PART_HEADERS is a collection
   * keyed by part name (CRS 922100 counts MULTIPART_PART_HEADERS:_charset_).
   */
  partHeadersByName: Array<[name: string, line: string]>;
  /**
   * Bytes v2 counts against SecRequestBodyNoFilesLimit for this body: part headers and text-part
   * data, not file content, boundaries or preamble.
   */
  noFilesLength: number;
  /** Every Content-Disposition filename seen, in order (MULTIPART_FILENAME is the last one). */
  filenames: string[];
  /** Every Content-Disposition name seen, in order (MULTIPART_NAME is the last one). */
  names: string[];
}

export interface BodyParseResult {
  /** ARGS_POST in order. */
  args: Array<[name: string, value: string]>;
  files: BodyFile[];
  /** REQBODY_ERROR_MSG as v2 sets it; null when REQBODY_ERROR is 0. */
  error: string | null;
  /** Present for MULTIPART only. */
  multipart: MultipartFlags | null;
  /**
   * XML only: the values of `XML:/*`. v2 evaluates the XPath `/*` and takes xmlNodeGetContent() of
   * the root element, so this holds one entry: all text and CDATA of the document, in order, with
   * entities and character references decoded (empty array when there is no root element).
   */
  xmlText: string[] | null;
  /** XML only: the values of `XML://@*`, every attribute value in document order (xmlns excluded). */
  xmlAttributes: string[] | null;
}

export interface BodyLimits {
  /** SecArgumentsLimit (v2 default 1000). */
  maxArgs?: number;
  /** SecRequestBodyJsonDepthLimit (v2 default 10000). */
  maxJsonDepth?: number;
}

/** v2 defaults for the limits. */
export const DEFAULT_MAX_ARGS = 1000;
export const DEFAULT_MAX_JSON_DEPTH = 10000;

export function emptyResult(): BodyParseResult {
  return { args: [], files: [], error: null, multipart: null, xmlText: null, xmlAttributes: null };
}
