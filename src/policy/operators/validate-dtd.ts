import { unsupportedOperator } from './unsupported-operator.js';

export const validateDTD = unsupportedOperator('validateDTD', 'XML DTD validation is not implemented');
