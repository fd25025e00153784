import { unsupportedOperator } from './unsupported-operator.js';

export const fuzzyHash = unsupportedOperator('fuzzyHash', 'ssdeep fuzzy hashing is not supported');
