/** Uploaded files of a multipart body (names, sizes; content is never kept). */
import { collectionOf, computedScalar, type VariableSpec } from './variable-spec.js';

export const filesVariables: readonly VariableSpec[] = [
  collectionOf('FILES', (tx) => tx.files),
  collectionOf('FILES_NAMES', (tx) => tx.filesNames),
  collectionOf('FILES_SIZES', (tx) => tx.filesSizes),
  collectionOf('FILES_TMPNAMES', (tx) => tx.filesTmpNames),
  collectionOf('FILES_TMP_CONTENT', (tx) => tx.filesTmpNames),
  computedScalar('FILES_COMBINED_SIZE', (tx) => String(tx.filesCombinedSize)),
];
