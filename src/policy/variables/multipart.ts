/** Multipart strictness flags (0/1) and per-part data produced by the MULTIPART body processor. */
import { collectionOf, storedScalar, type VariableSpec } from './variable-spec.js';

export const MULTIPART_FLAGS = [
  'MULTIPART_STRICT_ERROR',
  'MULTIPART_UNMATCHED_BOUNDARY',
  'MULTIPART_BOUNDARY_QUOTED',
  'MULTIPART_BOUNDARY_WHITESPACE',
  'MULTIPART_DATA_BEFORE',
  'MULTIPART_DATA_AFTER',
  'MULTIPART_HEADER_FOLDING',
  'MULTIPART_LF_LINE',
  'MULTIPART_MISSING_SEMICOLON',
  'MULTIPART_INVALID_QUOTING',
  'MULTIPART_INVALID_PART',
  'MULTIPART_INVALID_HEADER_FOLDING',
  'MULTIPART_FILE_LIMIT_EXCEEDED',
  'MULTIPART_CRLF_LF_LINES',
] as const;

export const multipartVariables: readonly VariableSpec[] = [
  ...MULTIPART_FLAGS.map(storedScalar),
  storedScalar('MULTIPART_BOUNDARY'),
  collectionOf('MULTIPART_PART_HEADERS', (tx) => tx.multipartPartHeaders),
  // v2: the name and filename of the last part seen.
  storedScalar('MULTIPART_FILENAME'),
  storedScalar('MULTIPART_NAME'),
];
