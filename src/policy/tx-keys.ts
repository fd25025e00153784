/**
 * TX variable names a policy's rules name literally (`TX:paranoia_level`, `setvar:tx.anomaly_score=…`,
 * the capture keys TX.0 … TX.9), numbered at load.
 *
 * A CRS request reads and writes TX about 500 times (the quick-reject table's TX targets, replayed
 * rules' read checks and writes, the capture keys cleared around every capture). Each was a lookup in
 * the transaction's own Map, which is new for every request (and grows, rehashing, as the defaults are
 * set): the lookups cost 60–90 ns each in the gateway, mostly cache misses, where the same lookups in a
 * loop over one Map cost 15–20 ns. With the names numbered, a transaction's TX collection keeps its
 * entries for numbered names in an array as well (TxCollection.slots), and the paths that know the
 * number in advance (quick-reject table, replay records) index it.
 *
 * The table is filled while the policy is built and never changes afterwards; names made at run time
 * (`setvar:tx.%{rule.id}-…`) have no number and live in the Map only.
 */
import type { Rule } from './rule.js';
import { literalSelector } from './collection.js';

/** Numbers fit the quick-reject table's Uint16Array; a policy naming more keys leaves the rest unnumbered. */
const MAX_TX_KEYS = 0xffff;

export class TxKeys {
  private readonly ids = new Map<string, number>();
  /** Keys by number. */
  private readonly names: string[] = [];
  /**
   * Per key pattern (TX:/^header_name_/ …) selected at run time: 1 for each numbered key it matches.
   * Weak: a pattern made at run time does not stay.
   */
  private readonly matches = new WeakMap<RegExp, Uint8Array>();
  private sealed = false;

  /** Number of numbered keys (the length of a transaction's slot array). */
  get size(): number {
    return this.ids.size;
  }

  /** The number of a lower-case key, or -1. */
  id(lowerKey: string): number {
    return this.ids.get(lowerKey) ?? -1;
  }

  /** Numbers a lower-case key (load time only); -1 once the table is full. */
  add(lowerKey: string): number {
    let id = this.ids.get(lowerKey);
    if (id !== undefined) return id;
    if (this.sealed) throw new Error('TxKeys: the table is sealed once the policy is built');
    if (this.ids.size >= MAX_TX_KEYS) return -1;
    id = this.ids.size;
    this.ids.set(lowerKey, id);
    this.names.push(lowerKey);
    return id;
  }

  /**
   * Which numbered keys a key pattern matches, worked out on its first use and kept as long as the
   * pattern lives (the rules' own are compiled once; the numbered keys do not change after the build).
   */
  matching(re: RegExp): Uint8Array {
    let table = this.matches.get(re);
    if (table === undefined) {
      table = new Uint8Array(this.names.length);
      const lit = literalSelector(re);
      for (let i = 0; i < this.names.length; i++) if (lit !== null ? lit.test(this.names[i]!) : re.test(this.names[i]!)) table[i] = 1;
      this.matches.set(re, table);
    }
    return table;
  }

  /** Ids of `keys` (-1 for names without a number). */
  idsOf(keys: readonly (string | null)[], step = 1): Int32Array {
    const out = new Int32Array(Math.ceil(keys.length / step));
    for (let i = 0, j = 0; i < keys.length; i += step, j++) {
      const k = keys[i];
      out[j] = typeof k === 'string' ? this.id(k) : -1;
    }
    return out;
  }

  seal(): this {
    this.sealed = true;
    return this;
  }
}

/** Capture keys TX.0 … TX.9, written and deleted around every capture. */
export const CAPTURE_KEYS: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** The TX names the rules (and their chain links) name literally: targets and setvar keys. */
export function collectTxKeys(rules: readonly Rule[]): TxKeys {
  const keys = new TxKeys();
  for (const k of CAPTURE_KEYS) keys.add(k);
  for (const rule of rules) {
    for (let link: Rule | null = rule; link !== null; link = link.chain) {
      for (const t of link.targets) {
        if (t.spec.name === 'TX' && t.selector !== null && t.selector.regex === null && t.selector.key !== null) keys.add(t.selector.key);
      }
      for (const a of link.actions) {
        const key = a.txMacros?.[0]?.constant;
        if (typeof key === 'string') keys.add(key.toLowerCase());
      }
    }
  }
  return keys;
}
