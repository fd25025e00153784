import { unsupportedOperator } from './unsupported-operator.js';

export const inspectFile = unsupportedOperator('inspectFile', 'running external programs from rules is not allowed (the engine does no I/O)');
