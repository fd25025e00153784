/**
 * A SecLang variable (ARGS, REQUEST_URI, TX …). Collections return a view; scalars one entry or null
 * when absent (so `&VAR` counts 0). Specs read the data the transaction stored; they never compute on
 * request data beyond trivial sums, so evaluating a variable is cheap.
 */
import type { CollectionView, EntrySummary, VarEntry } from '../collection.js';
import { entry } from '../collection.js';
import type { Transaction } from '../transaction.js';

export interface VariableSpec {
  /** Canonical upper-case name. */
  readonly name: string;
  readonly kind: 'scalar' | 'collection';
  /** False when values can change within a transaction (TX, IP …): no transformation caching. */
  readonly cacheable: boolean;
  /** XML: the selector is an XPath expression, not a key. */
  readonly selectorIsPath?: boolean;
  scalar?(tx: Transaction): VarEntry | null;
  collection?(tx: Transaction): CollectionView | null;
}

/** A scalar stored by the transaction under its own name (tx.scalars). */
export function storedScalar(name: string): VariableSpec {
  return { name, kind: 'scalar', cacheable: true, scalar: (tx) => tx.scalars.get(name) ?? null };
}

/** A scalar computed on every read (non-cacheable). */
export function computedScalar(name: string, compute: (tx: Transaction) => string | null): VariableSpec {
  return {
    name,
    kind: 'scalar',
    cacheable: false,
    scalar: (tx) => {
      const v = compute(tx);
      return v === null ? null : entry('', v);
    },
  };
}

/** A collection view read from the transaction. */
export function collectionOf(name: string, get: (tx: Transaction) => CollectionView | null, cacheable = true): VariableSpec {
  return { name, kind: 'collection', cacheable, collection: get };
}

/**
 * `X_NAMES`: the keys of another collection, each as a value (key = value = the name). One view per
 * transaction and source; entries are rebuilt only when the source changed, so their transformation
 * caches survive across rules.
 */
export class NamesView implements CollectionView {
  private entries: VarEntry[] = [];
  private builtFor = -1;
  summary: EntrySummary | null = null;
  constructor(private readonly source: CollectionView & { readonly version: number }) {}
  get version(): number {
    return this.source.version;
  }
  all(): readonly VarEntry[] {
    if (this.builtFor !== this.source.version) {
      this.entries = this.source.all().map((e) => entry(e.key, e.key));
      this.builtFor = this.source.version;
    }
    return this.entries;
  }
  byKey(lowerKey: string): readonly VarEntry[] {
    return this.all().filter((e) => e.key.toLowerCase() === lowerKey);
  }
}
