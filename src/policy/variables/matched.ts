/**
 * MATCHED_VAR / MATCHED_VAR_NAME: the last match of any rule in this transaction.
 * MATCHED_VARS / MATCHED_VARS_NAMES: every match of the rule (chain) being evaluated.
 */
import { entry } from '../collection.js';
import { collectionOf, computedScalar, type VariableSpec } from './variable-spec.js';
import { ListCollection } from '../collection.js';

export const matchedVariables: readonly VariableSpec[] = [
  computedScalar('MATCHED_VAR', (tx) => tx.matchedVar),
  computedScalar('MATCHED_VAR_NAME', (tx) => tx.matchedVarName),
  // A snapshot: a chained rule that reads MATCHED_VARS adds to it while iterating.
  collectionOf(
    'MATCHED_VARS',
    (tx) => {
      const c = new ListCollection();
      for (const e of tx.matchedVars.all()) c.addEntry(entry(e.key, e.value));
      return c;
    },
    false,
  ),
  collectionOf(
    'MATCHED_VARS_NAMES',
    (tx) => {
      const c = new ListCollection();
      for (const e of tx.matchedVars.all()) c.addEntry(entry(e.key, e.key));
      return c;
    },
    false,
  ),
];
