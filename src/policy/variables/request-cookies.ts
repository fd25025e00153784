/** REQUEST_COOKIES (version 0 cookie format, values not decoded) and REQUEST_COOKIES_NAMES. */
import { collectionOf, type VariableSpec } from './variable-spec.js';

export const requestCookiesVariables: readonly VariableSpec[] = [
  collectionOf('REQUEST_COOKIES', (tx) => tx.requestCookies),
  collectionOf('REQUEST_COOKIES_NAMES', (tx) => tx.names.requestCookies),
];
