/**
 * XML. The XML body processor yields the document's text nodes; `XML:/*` (what CRS uses) selects all
 * of them. Other XPath expressions are accepted at load time and select the same text (attribute
 * selections such as `XML://@*` select nothing: attribute values are not extracted).
 */
import type { VariableSpec } from './variable-spec.js';

export const xmlVariables: readonly VariableSpec[] = [
  { name: 'XML', kind: 'collection', cacheable: true, selectorIsPath: true, collection: (tx) => tx.xml },
];
