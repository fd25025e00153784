/**
 * XML. Two XPath selections are supported, the two CRS uses: `XML:/*` (the text content of the
 * document) and `XML://@*` (every attribute value). Any other path containing '@' selects the
 * attribute values and any other path the text content (documented in docs/POLICY.md).
 */
import type { VariableSpec } from './variable-spec.js';

export const xmlVariables: readonly VariableSpec[] = [
  { name: 'XML', kind: 'collection', cacheable: true, selectorIsPath: true, collection: (tx) => tx.xml },
];
