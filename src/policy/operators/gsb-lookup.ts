import { unsupportedOperator } from './unsupported-operator.js';

export const gsbLookup = unsupportedOperator('gsbLookup', 'Google Safe Browsing databases are not supported');
