/**
 * Variable storage of a transaction. A VarEntry is created once per transaction for every piece of
 * request/response data, and carries that transaction's cache of transformed values (key: the
 * transformation-chain prefix id assigned at load time). TX and persistent collections hold mutable
 * values, so their entries are never cached (see VariableSpec.cacheable).
 */

import { presentBytes } from './regex/required-bytes.js';
import { WordSlab } from './no-match-memo.js';

export interface VarEntry {
  /** Key within its collection ('' for scalar variables). */
  readonly key: string;
  value: string;
  /** Transformation cache: chain-prefix id → transformed value. Allocated on first use. */
  cache: Map<number, string> | null;
  /** The bytes of `bytesOf` (8 words), for rule value filters (value-filter.ts). Computed on first use; read-only (shared, see valueBytes). */
  bytes: Uint32Array | null;
  /** The value `bytes` describes (values of TX and persistent collections change). */
  bytesOf: string | null;
  /** [this], for MapCollection.byKey (TX:name is read by most CRS rules; no array per read). */
  alone: readonly VarEntry[] | null;
  /** The policy's no-match record for `memoOf` (no-match-memo.ts), looked up on first use. */
  memo: Uint32Array | null;
  /** The value `memo` describes, for entries whose value changes (TX …); unused for the others. */
  memoOf: string | null;
  /** TX only: the key's number in the policy's TX key table (tx-keys.ts), -1 for other entries. */
  readonly txId: number;
}

export function entry(key: string, value: string, txId = -1): VarEntry {
  return { key, value, cache: null, bytes: null, bytesOf: null, alone: null, memo: null, memoOf: null, txId };
}

/** Read access shared by every collection kind. */
export interface CollectionView {
  /** All entries in insertion order. */
  all(): readonly VarEntry[];
  /** Entries whose key equals `lowerKey` case-insensitively. */
  byKey(lowerKey: string): readonly VarEntry[];
  /** Changes whenever an entry is added or removed; absent for collections whose values change (TX …). */
  readonly version?: number;
  /** What all() holds, summarised for skipping whole targets (see EntrySummary); kept by the engine. */
  summary?: EntrySummary | null;
}

/**
 * All entries of a collection at once, for one version of it: lets the engine skip a whole target for
 * a rule link with one check instead of one per entry (transaction.ts). Values of collections that have
 * a version never change, so a summary stays true until the version changes.
 */
export interface EntrySummary {
  version: number;
  /**
   * Union of the entries' byte bitmaps: no entry holds a byte outside it (rule value filters). Read-only:
   * for one entry it is that entry's (possibly shared) bitmap.
   */
  bytes: Uint32Array;
  /**
   * AND of the entries' no-match records (no-match-memo.ts) when the summary was made: a bit set means
   * no entry can match that link. Bits learnt later are not added (the summary only under-claims); for
   * one entry it is the entry's record itself, which does see them. Read-only.
   */
  known: Uint32Array;
  /** The summary's own union buffer, kept for the next summary made into this object. */
  own: Uint32Array | null;
}

/** Where summaries find a value's no-match record (NoMatchMemo). */
export interface RecordSource {
  record(value: string): Uint32Array;
}

/** Values up to this length share their byte bitmap across entries and transactions (valueBytes). */
export const MAX_SHARED_BITMAP_VALUE = 1024;
const MAX_SHARED_BITMAPS = 4096;
const sharedBitmaps = new Map<string, Uint32Array>();

/**
 * The byte bitmap of a value (see presentBytes), read-only: bitmaps of values up to
 * MAX_SHARED_BITMAP_VALUE are shared. Entries are made per transaction, but their values repeat
 * across requests (headers, cookies, argument names), and a lookup of a string whose hash the
 * no-match memo has already computed costs less than a pass over its characters plus a typed array.
 * At most MAX_SHARED_BITMAPS values are kept (cleared when full): ≤ 4 MiB of keys, 128 KiB of bitmaps.
 */
export function valueBytes(v: string): Uint32Array {
  if (v.length > MAX_SHARED_BITMAP_VALUE) return presentBytes(v, new Uint32Array(8));
  let b = sharedBitmaps.get(v);
  if (b === undefined) {
    if (sharedBitmaps.size >= MAX_SHARED_BITMAPS) sharedBitmaps.clear();
    b = presentBytes(v, new Uint32Array(8));
    sharedBitmaps.set(v, b);
  }
  return b;
}

/** The entry's byte bitmap (read-only, possibly shared), looked up again only when its value changed. */
export function entryBytes(e: VarEntry): Uint32Array {
  const v = e.value;
  if (e.bytesOf !== v || e.bytes === null) {
    e.bytes = valueBytes(v);
    e.bytesOf = v;
  }
  return e.bytes;
}

/** Where summaries' `known` words come from (one per summary, as long as a no-match record). */
const summarySlab = new WordSlab();

/** Summarises `list` (see EntrySummary); `memo` gives a value's no-match record. */
export function summarizeEntries(list: readonly VarEntry[], version: number, memo: RecordSource, reuse: EntrySummary | null): EntrySummary {
  if (list.length === 1) {
    // One entry (REQUEST_HEADERS:User-Agent …): its own bitmap and record, nothing to combine.
    const e = list[0]!;
    const bytes = entryBytes(e);
    const known = (e.memo ??= memo.record(e.value));
    if (reuse === null) return { version, bytes, known, own: null };
    reuse.version = version;
    reuse.bytes = bytes;
    reuse.known = known;
    return reuse;
  }
  // Typed-array builtins (fill, slice) cost more than these short loops: slice() alone was ≈ 40 % of
  // a six-entry summary (species lookup and a runtime call per copy).
  let bytes: Uint32Array;
  const own = reuse?.own ?? null;
  if (own === null) bytes = new Uint32Array(8);
  else {
    bytes = own;
    for (let w = 0; w < 8; w++) bytes[w] = 0;
  }
  let known: Uint32Array | null = null;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    const b = entryBytes(e);
    for (let w = 0; w < 8; w++) bytes[w]! |= b[w]!;
    const r = (e.memo ??= memo.record(e.value));
    if (known === null) {
      known = summarySlab.take(r.length);
      for (let w = 0; w < r.length; w++) known[w] = r[w]!;
    } else if (r.length !== known.length) known = r.length === 0 ? r : known; // an unremembered value: nothing is known
    else for (let w = 0; w < known.length; w++) known[w]! &= r[w]!;
  }
  if (reuse === null) return { version, bytes, known: known ?? new Uint32Array(0), own: bytes };
  reuse.version = version;
  reuse.bytes = bytes;
  reuse.own = bytes;
  reuse.known = known ?? new Uint32Array(0);
  return reuse;
}

const NONE: readonly VarEntry[] = Object.freeze([]);

/** Multi-valued, insertion-ordered collection (ARGS, REQUEST_HEADERS …). Keys are case-insensitive. */
export class ListCollection implements CollectionView {
  private list: VarEntry[] = [];
  private index: Map<string, VarEntry[]> | null = null;
  /** Bumped on every change, so derived views (ARGS, *_NAMES) can cache what they built. */
  version = 0;
  summary: EntrySummary | null = null;

  add(key: string, value: string): VarEntry {
    const e = entry(key, value);
    this.list.push(e);
    this.index = null;
    this.version++;
    return e;
  }

  addEntry(e: VarEntry): void {
    this.list.push(e);
    this.index = null;
    this.version++;
  }

  get size(): number {
    return this.list.length;
  }

  all(): readonly VarEntry[] {
    return this.list;
  }

  byKey(lowerKey: string): readonly VarEntry[] {
    if (this.list.length === 0) return NONE;
    if (this.index === null) {
      const idx = new Map<string, VarEntry[]>();
      for (const e of this.list) {
        const k = e.key.toLowerCase();
        const arr = idx.get(k);
        if (arr) arr.push(e);
        else idx.set(k, [e]);
      }
      this.index = idx;
    }
    return this.index.get(lowerKey) ?? NONE;
  }

  clear(): void {
    if (this.list.length === 0) return;
    // A fresh array: truncating with `length = 0` is a slow runtime call, and MATCHED_VARS is cleared
    // before every rule.
    this.list = [];
    this.index = null;
    this.version++;
  }
}

/** Collection formed by concatenating others (ARGS = ARGS_GET + ARGS_POST), sharing their entries. */
export class JoinedCollection implements CollectionView {
  private cached: VarEntry[] | null = null;
  private cachedVersion = -1;
  summary: EntrySummary | null = null;
  constructor(private readonly parts: readonly ListCollection[]) {}
  get version(): number {
    let v = 0;
    for (const p of this.parts) v += p.version;
    return v;
  }
  all(): readonly VarEntry[] {
    const v = this.version;
    if (this.cached !== null && v === this.cachedVersion) return this.cached;
    const out: VarEntry[] = [];
    for (const p of this.parts) for (const e of p.all()) out.push(e);
    this.cached = out;
    this.cachedVersion = v;
    return out;
  }
  byKey(lowerKey: string): readonly VarEntry[] {
    const out: VarEntry[] = [];
    for (const p of this.parts) for (const e of p.byKey(lowerKey)) out.push(e);
    return out;
  }
}

/** Single-valued map collection with lower-case keys (TX, IP, GLOBAL …). */
export class MapCollection implements CollectionView {
  readonly map = new Map<string, VarEntry>();
  /** all() as an array, kept until a key is added or removed (value updates happen in the entries). */
  private listed: VarEntry[] | null = null;
  private listedSize = -1;
  /** Entries whose key a selector regex matches, per regex, for the current `listed`. */
  private selections = new Map<RegExp, readonly VarEntry[]>();

  get(lowerKey: string): string | undefined {
    return this.map.get(lowerKey)?.value;
  }

  set(key: string, value: string): void {
    this.setLower(key.toLowerCase(), value);
  }

  /** set() for a key already in lower case (replayed TX writes, captures); returns the key's entry. */
  setLower(k: string, value: string): VarEntry {
    const e = this.map.get(k);
    if (e) {
      e.value = value;
      return e;
    }
    return this.insert(entry(k, value));
  }

  /** Adds an entry whose key is not in the collection. */
  protected insert(e: VarEntry): VarEntry {
    this.map.set(e.key, e);
    this.listed = null;
    return e;
  }

  delete(key: string): void {
    this.deleteLower(key.toLowerCase());
  }

  /** delete() for a key already in lower case (TX.0 … TX.9 around every capture). */
  deleteLower(lowerKey: string): void {
    if (this.map.delete(lowerKey)) this.listed = null;
  }

  all(): readonly VarEntry[] {
    // The size check also catches subclasses that delete from `map` directly (expiry).
    if (this.listed === null || this.listedSize !== this.map.size) {
      this.listed = [...this.map.values()];
      this.listedSize = this.map.size;
      if (this.selections.size > 0) this.selections.clear();
    }
    return this.listed;
  }

  /**
   * Entries whose key `re` matches (TX:/^HEADER_NAME_/, &TX:/LEAKAGE/ …), remembered until a key is
   * added or removed. `re` must be stateless (no g/y flag): selector regexes are compiled so.
   */
  select(re: RegExp): readonly VarEntry[] {
    const all = this.all();
    let sel = this.selections.get(re);
    if (sel === undefined) {
      sel = this.scan(re, all);
      this.selections.set(re, sel);
    }
    return sel;
  }

  /** The entries of `all` whose key `re` matches. */
  protected scan(re: RegExp, all: readonly VarEntry[]): VarEntry[] {
    const out: VarEntry[] = [];
    const lit = literalSelector(re);
    if (lit === null) {
      for (let i = 0; i < all.length; i++) if (re.test(all[i]!.key)) out.push(all[i]!);
    } else {
      for (let i = 0; i < all.length; i++) if (lit.test(all[i]!.key)) out.push(all[i]!);
    }
    return out;
  }

  byKey(lowerKey: string): readonly VarEntry[] {
    const e = this.map.get(lowerKey);
    if (e === undefined) return NONE;
    // Not frozen: Object.freeze per new entry cost ≈ 1.5 µs per benign GET (CRS 920450 re-creates TX.0
    // for every header name and reads it twice); the readonly type keeps callers from writing.
    return (e.alone ??= [e]);
  }
}

/**
 * A key regex that is a plain literal, possibly anchored (`^header_name_`, `LEAKAGE\/ERRORS`,
 * `MULTIPART_HEADERS_CONTENT_TYPES_*`), as a string test on the lower-case key; null when the pattern is
 * anything else. CRS selects TX keys this way; a string test does not enter the regex engine per key.
 */
export interface LiteralSelector {
  readonly literal: string;
  readonly start: boolean;
  readonly end: boolean;
  test(lowerKey: string): boolean;
}

const literalSelectors = new WeakMap<RegExp, LiteralSelector | null>();

/**
 * The literal form of `re` for keys already in lower case (MapCollection keys), or null. Only for
 * case-insensitive, stateless, non-unicode regexes (compiled key selectors) whose literal is ASCII
 * letters, digits, `_`, `-`, space or escaped ASCII punctuation. Then /lit/i on a lower-case key is the
 * same test as comparing with the lower-case literal: an ASCII key character is already lower case, and
 * without the u flag case folding never maps a non-ASCII character to an ASCII one.
 */
export function literalSelector(re: RegExp): LiteralSelector | null {
  let sel = literalSelectors.get(re);
  if (sel === undefined) {
    sel = parseLiteralSelector(re);
    literalSelectors.set(re, sel);
  }
  return sel;
}

function parseLiteralSelector(re: RegExp): LiteralSelector | null {
  if (!re.ignoreCase || re.global || re.sticky || re.unicode || re.multiline) return null;
  let src = re.source;
  const start = src.startsWith('^');
  if (start) src = src.slice(1);
  let end = false;
  if (src.endsWith('$') && !src.endsWith('\\$')) {
    end = true;
    src = src.slice(0, -1);
  }
  const atoms: string[] = [];
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      const next = src[i + 1];
      if (next === undefined || !/^[!-/:-@[-`{-~]$/.test(next)) return null; // \d, \b, \x41 … or a dangling backslash
      atoms.push(next);
      i++;
    } else if (ch === '*' && !end && i === src.length - 1 && atoms.length > 0) {
      atoms.pop(); // a trailing `x*` without `$` adds nothing to an unanchored-at-the-end match
    } else if (/^[a-zA-Z0-9_\- ]$/.test(ch)) {
      atoms.push(ch);
    } else {
      return null;
    }
  }
  const literal = atoms.join('').toLowerCase();
  if (start && end) return { literal, start, end, test: (k) => k === literal };
  if (start) return { literal, start, end, test: (k) => k.startsWith(literal) };
  if (end) return { literal, start, end, test: (k) => k.endsWith(literal) };
  return { literal, start, end, test: (k) => k.includes(literal) };
}
