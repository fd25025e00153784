import { unsupportedOperator } from './unsupported-operator.js';

export const rsub = unsupportedOperator('rsub', 'stream rewriting (STREAM_*_BODY substitution) is not supported');
