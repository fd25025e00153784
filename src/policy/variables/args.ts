/** ARGS and its family: query-string arguments (GET) and body arguments (POST). */
import { collectionOf, computedScalar, type VariableSpec } from './variable-spec.js';

export const argsVariables: readonly VariableSpec[] = [
  collectionOf('ARGS', (tx) => tx.args),
  collectionOf('ARGS_GET', (tx) => tx.argsGet),
  collectionOf('ARGS_POST', (tx) => tx.argsPost),
  collectionOf('ARGS_NAMES', (tx) => tx.names.args),
  collectionOf('ARGS_GET_NAMES', (tx) => tx.names.argsGet),
  collectionOf('ARGS_POST_NAMES', (tx) => tx.names.argsPost),
  computedScalar('ARGS_COMBINED_SIZE', (tx) => {
    let n = 0;
    for (const e of tx.args.all()) n += e.key.length + e.value.length;
    return String(n);
  }),
];
