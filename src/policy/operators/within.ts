/**
 * @within — ModSecurity v2 semantics: the VALUE occurs as a substring of the parameter (no tokenising of
 * the space-separated list: "GET" is within "GET HEAD", and so is "ET H"). An empty value matches.
 * CRS relies on delimiters in its lists (e.g. "|%{tx.allowed_request_content_type_charset}|").
 */
import { stringOperator } from './string-operator.js';

export const within = stringOperator('within', (value, param) => param.includes(value));
