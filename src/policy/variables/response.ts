/** Response variables (phases 3 and 4). */
import { collectionOf, storedScalar, type VariableSpec } from './variable-spec.js';

export const responseVariables: readonly VariableSpec[] = [
  storedScalar('RESPONSE_STATUS'),
  storedScalar('RESPONSE_PROTOCOL'),
  storedScalar('STATUS_LINE'),
  storedScalar('RESPONSE_BODY'),
  storedScalar('RESPONSE_CONTENT_TYPE'),
  storedScalar('RESPONSE_CONTENT_LENGTH'),
  storedScalar('OUTBOUND_DATA_ERROR'),
  collectionOf('RESPONSE_HEADERS', (tx) => tx.responseHeaders),
  collectionOf('RESPONSE_HEADERS_NAMES', (tx) => tx.names.responseHeaders),
];
