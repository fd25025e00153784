import { unsupportedOperator } from './unsupported-operator.js';

export const validateSchema = unsupportedOperator('validateSchema', 'XML Schema validation is not implemented');
