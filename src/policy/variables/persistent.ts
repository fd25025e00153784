/** Persistent collections opened by initcol/setsid/setuid (in-memory store, see collection-store.ts). */
import { collectionOf, type VariableSpec } from './variable-spec.js';

export const PERSISTENT_COLLECTIONS = ['IP', 'GLOBAL', 'SESSION', 'USER', 'RESOURCE'] as const;

export const persistentVariables: readonly VariableSpec[] = PERSISTENT_COLLECTIONS.map((name) =>
  collectionOf(name, (tx) => tx.persistent.get(name) ?? null, false),
);
