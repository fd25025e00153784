/** RULE (metadata of the rule being evaluated, for %{rule.msg} …) and HIGHEST_SEVERITY. */
import { collectionOf, computedScalar, type VariableSpec } from './variable-spec.js';

export const ruleMetadataVariables: readonly VariableSpec[] = [
  collectionOf('RULE', (tx) => tx.ruleVars, false),
  computedScalar('HIGHEST_SEVERITY', (tx) => String(tx.highestSeverity)),
];
