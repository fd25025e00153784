/**
 * Remembered "no match" answers, per raw value, for the rule links of one compiled policy.
 *
 * A rule link whose operator is pure (its answer depends only on the value it is given: a constant
 * parameter, no macro, no lookup outside the value) and whose transformations are pure functions gives
 * the same answer every time it sees the same raw value. Request data repeats across requests — the
 * browser's User-Agent, Accept*, cookie values, common argument values — so the engine remembers, per
 * distinct raw value, the links that did not match it, and skips those (rule, value) pairs on later
 * requests without transforming the value or calling the operator.
 *
 * Exact: only "no match" is remembered, and a value that does not match has no effect in ModSecurity's
 * model (no capture, no MATCHED_VAR, no actions) — the same argument as the value filter
 * (value-filter.ts). A match is always evaluated again, so captures and actions happen as before.
 *
 * Bounded: values longer than MAX_MEMO_VALUE are not remembered, at most MAX_MEMO_VALUES values are kept
 * (the memo is cleared when full), so it retains at most a few MB per policy. Each value's record is a
 * bitset with one bit per pure link (its slot, numbered when the rule is compiled).
 */
import type { CompiledOperator, Rule } from './rule.js';

/** Longer values are neither looked up nor remembered (they rarely repeat, and must not be pinned). */
export const MAX_MEMO_VALUE = 1024;
const MAX_MEMO_VALUES = 4096;

/** The record of values that are not remembered: reads give 0 (unknown), writes are ignored. */
export const UNREMEMBERED: Uint32Array = new Uint32Array(0);

/** Bytes per slab of WordSlab: small, so a view kept alive longer than its neighbours pins little. */
const SLAB_BYTES = 4096;

/**
 * Zeroed Uint32Array views carved from shared ArrayBuffers. V8 keeps a typed array of up to 64 bytes
 * (16 words) on its heap; a larger one gets its own off-heap backing store, which costs ≈ 1 µs per
 * allocation (calloc, external-memory accounting, a finalizer) against ≈ 50 ns for a view on an existing
 * buffer (measured on Node 20: `new Uint32Array(24)` ≈ 0.85–1.9 µs, a view ≈ 0.05–0.11 µs, `new
 * Uint32Array(16)` ≈ 0.03 µs). No-match records and summaries have one bit per remembered link: 24 words
 * for CRS PL1. A slab is never reused (views start zeroed); it is freed when its last view is, so a
 * view kept alive pins at most SLAB_BYTES.
 */
export class WordSlab {
  private buffer = new ArrayBuffer(SLAB_BYTES);
  private offset = 0;

  /** A zeroed array of `words` words (its own buffer when it would not fit a quarter slab). */
  take(words: number): Uint32Array {
    const bytes = words * 4;
    if (words <= 16 || bytes > SLAB_BYTES / 4) return new Uint32Array(words);
    if (this.offset + bytes > SLAB_BYTES) {
      this.buffer = new ArrayBuffer(SLAB_BYTES);
      this.offset = 0;
    }
    const view = new Uint32Array(this.buffer, this.offset, words);
    this.offset += bytes;
    return view;
  }
}

/** Operators whose answer is a function of the value alone when their parameter is constant. */
const PURE_OPERATORS: ReadonlySet<string> = new Set([
  'rx', 'pm', 'pmFromFile', 'streq', 'contains', 'containsWord', 'beginsWith', 'endsWith', 'within', 'strmatch',
  'eq', 'ge', 'gt', 'le', 'lt', 'ipMatch', 'ipMatchFromFile', 'detectSQLi', 'detectXSS', 'validateByteRange',
  'validateUrlEncoding', 'validateUtf8Encoding', 'unconditionalMatch', 'noMatch', 'verifyCC', 'verifySSN', 'verifyCPF',
]);

/** True when a link's answer for a raw value never changes (operator pure, parameter constant). */
export function isPureOperator(op: CompiledOperator | null): boolean {
  return op !== null && op.constantParam && PURE_OPERATORS.has(op.name);
}

/**
 * Memo slots are numbered when rules are compiled (Rule.memoSlot), so the evaluation loop reads a
 * link's slot from the rule itself; a policy's records cover the span of slots its rules use.
 */
let nextSlot = 0;
export function allocateMemoSlot(): number {
  return nextSlot++;
}

export class NoMatchMemo {
  /** Rule.memoSlot - base = the bit in a record. */
  readonly base: number;
  private readonly words: number;
  private readonly records = new Map<string, Uint32Array>();
  private readonly slab = new WordSlab();

  /** Covers the slots of every link of `rules` (chain starters; their chain links too). */
  constructor(rules: Iterable<Rule>) {
    let lo = Infinity;
    let hi = -1;
    for (const starter of rules) {
      for (let link: Rule | null = starter; link !== null; link = link.chain) {
        if (link.memoSlot < 0) continue;
        if (link.memoSlot < lo) lo = link.memoSlot;
        if (link.memoSlot > hi) hi = link.memoSlot;
      }
    }
    this.base = hi < 0 ? 0 : lo;
    this.words = hi < 0 ? 0 : (hi - lo + 32) >>> 5;
  }

  /** The link's bit in a record, or -1 when its answers are not remembered. */
  slotOf(link: Rule): number {
    return link.memoSlot < 0 ? -1 : link.memoSlot - this.base;
  }

  /** The value's record (UNREMEMBERED for long values). Callers keep it on the VarEntry. */
  record(value: string): Uint32Array {
    if (value.length > MAX_MEMO_VALUE || this.words === 0) return UNREMEMBERED;
    let r = this.records.get(value);
    if (r === undefined) {
      if (this.records.size >= MAX_MEMO_VALUES) this.records.clear();
      r = this.slab.take(this.words);
      this.records.set(value, r);
    }
    return r;
  }

  /**
   * Per numbered TX key (tx-keys.ts): the value whose record was last asked for, and that record. TX
   * entries are new in every transaction and their values repeat ("0", "1", the defaults), so a read of
   * TX:name finds its record here instead of hashing the value into `records`. A record outlives a
   * clear of `records` here: its bits stay true (a value's answers never change), only unshared.
   */
  private keyValues: (string | undefined)[] = [];
  private keyRecords: (Uint32Array | undefined)[] = [];

  /** Sizes the per-key cache for `keys` numbered TX keys (once, when the policy is built). */
  sizeKeyCache(keys: number): void {
    this.keyValues = new Array<string | undefined>(keys).fill(undefined);
    this.keyRecords = new Array<Uint32Array | undefined>(keys).fill(undefined);
  }

  /** record() for the value of numbered TX key `id`. */
  recordOfKey(id: number, value: string): Uint32Array {
    if (id < this.keyValues.length && this.keyValues[id] === value) return this.keyRecords[id]!;
    const r = this.record(value);
    if (id < this.keyValues.length) {
      this.keyValues[id] = value;
      this.keyRecords[id] = r;
    }
    return r;
  }

  /** Number of remembered values (tests). */
  get size(): number {
    return this.records.size;
  }
}
