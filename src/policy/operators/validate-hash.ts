import { unsupportedOperator } from './unsupported-operator.js';

export const validateHash = unsupportedOperator('validateHash', 'HMAC URL hash enforcement (SecHashEngine) is not supported');
