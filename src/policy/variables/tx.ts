/** TX: the transaction's own variables (setvar:tx.x), including captures TX:0 … TX:9. */
import { collectionOf, type VariableSpec } from './variable-spec.js';

export const txVariables: readonly VariableSpec[] = [collectionOf('TX', (tx) => tx.txVars, false)];
