/** Variables derived from the request line (stored by the transaction in phase 1). */
import { storedScalar, type VariableSpec } from './variable-spec.js';

export const requestLineVariables: readonly VariableSpec[] = [
  'REQUEST_LINE',
  'REQUEST_METHOD',
  'REQUEST_PROTOCOL',
  'REQUEST_URI',
  'REQUEST_URI_RAW',
  'REQUEST_FILENAME',
  'REQUEST_BASENAME',
  'QUERY_STRING',
  'PATH_INFO',
].map(storedScalar);
