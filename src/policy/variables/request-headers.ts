/** REQUEST_HEADERS (keys case-insensitive, as HTTP header names are) and REQUEST_HEADERS_NAMES. */
import { collectionOf, type VariableSpec } from './variable-spec.js';

export const requestHeadersVariables: readonly VariableSpec[] = [
  collectionOf('REQUEST_HEADERS', (tx) => tx.requestHeaders),
  collectionOf('REQUEST_HEADERS_NAMES', (tx) => tx.names.requestHeaders),
];
