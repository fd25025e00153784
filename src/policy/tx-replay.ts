/**
 * Replay of rules whose inputs are TX and request data.
 *
 * About 80 CRS rules match every request without looking at it: the defaults of REQUEST-901
 * (`&TX:paranoia_level "@eq 0" → setvar`), the score resets, the paranoia-level skips at the start of
 * every file (`TX:EXECUTING_PARANOIA_LEVEL "@lt 2" → skipAfter`), the application-exclusion switches
 * (`&TX:crs_exclusions_drupal|TX:crs_exclusions_drupal "@eq 0"`) and the score sums and reports of
 * 949/959/980. Evaluated in full they cost a third of a benign request's inspection: macro expansion,
 * setvar, a match record each.
 *
 * Such a rule is a function of the TX values it reads. The first evaluation is recorded: which TX keys
 * it read and what they held, what it wrote to TX (in order), whether it matched and with what record,
 * where it left the flow (skip/skipAfter) and MATCHED_VAR. The next time the rule comes up, if every
 * key it read holds the same value again, the recorded effects are applied instead of evaluating it.
 * Anything else is evaluated and recorded again (a rule keeps its MAX_RECORDS most recent recordings,
 * for inputs that alternate: two clients' header orders …).
 *
 * Which rules qualify is decided at load (`replayable`): every link's targets are TX keys named exactly
 * (TX:name, &TX:name) or request data stored once per transaction (REQUEST_HEADERS_NAMES,
 * REQUEST_METHOD …), the operator is a pure function of value and parameter, every macro (operator
 * parameter, setvar key and value, msg, logdata) reads only TX, RULE or the rule's own MATCHED_VAR*,
 * and the only actions with an effect are setvar on TX and skip/skipAfter. A rule that can interrupt
 * or allow is replayed only when it did not match. TX reads and writes are logged by the TX collection
 * itself (TxCollection), so a read path the classifier did not foresee (a whole-collection read)
 * spoils the recording instead of replaying a wrong answer; what each request-data target selected is
 * recorded by the transaction and compared, entry by entry, before a replay.
 *
 * Request data makes CRS's normalising rules replayable: 920450 (every header name captured into
 * tx.header_name_*, then checked against tx.restricted_headers), 901318 (the User-Agent's hash), the
 * method and protocol checks (911100, 920430) — their inputs repeat across requests.
 */
import { MapCollection, entry, literalSelector, type VarEntry } from './collection.js';
import type { TxKeys } from './tx-keys.js';
import { compileMacro } from './macro.js';
import type { Macro } from './types.js';
import type { Rule, Target } from './rule.js';
import type { RuleMatch } from './transaction.js';

/** Operators whose answer depends only on the value and the (expanded) parameter. */
const PURE_OPERATORS = new Set([
  'rx', 'pm', 'pmf', 'pmfromfile', 'streq', 'contains', 'containsword', 'beginswith', 'endswith', 'within',
  'eq', 'ge', 'gt', 'le', 'lt', 'strmatch', 'unconditionalmatch', 'nomatch', 'ipmatch', 'ipmatchfromfile',
  'validatebyterange', 'validateurlencoding', 'validateutf8encoding', 'detectsqli', 'detectxss',
]);

const MATCH_REFS = new Set(['MATCHED_VAR', 'MATCHED_VAR_NAME', 'MATCHED_VARS', 'MATCHED_VARS_NAMES']);

function macroReadsOnly(m: Macro | null, matchRefsAllowed: boolean): boolean {
  if (m === null || m.constant !== null) return true;
  const refs = m.refs;
  if (refs === undefined) return false;
  for (const r of refs) {
    if (r === 'TX' || r === 'RULE') continue;
    if (matchRefsAllowed && MATCH_REFS.has(r)) continue;
    return false;
  }
  return true;
}

/**
 * True when the rule (with its chain) reads nothing but TX and request data and affects nothing but TX,
 * the flow and its own match record, so that the same inputs give the same outcome.
 */
export function replayable(rule: Rule): boolean {
  if (rule.marker !== null) return false;
  for (const f of rule.flow) if (f.name !== 'skip' && f.name !== 'skipAfter') return false;
  // MATCHED_VAR in a macro is the rule's own match only when every link has an operator; after a
  // SecAction link it would be whatever an earlier rule matched.
  let everyLinkMatches = true;
  for (let l: Rule | null = rule; l !== null; l = l.chain) if (l.operator === null) everyLinkMatches = false;
  if (!macroReadsOnly(rule.msg, everyLinkMatches) || !macroReadsOnly(rule.logdata, everyLinkMatches)) return false;
  for (let link: Rule | null = rule; link !== null; link = link.chain) {
    for (const a of link.actions) {
      if (a.name !== 'setvar' || a.txMacros === undefined) return false;
      for (const m of a.txMacros) if (!macroReadsOnly(m, everyLinkMatches)) return false;
    }
    const op = link.operator;
    if (op === null) {
      if (link.targets.length !== 0) return false;
      continue;
    }
    if (!PURE_OPERATORS.has(op.name.toLowerCase())) return false;
    if (!op.constantParam) {
      let param: Macro;
      try {
        param = compileMacro(op.param);
      } catch {
        return false;
      }
      if (!macroReadsOnly(param, true)) return false;
    }
    if (link.targets.length === 0) return false;
    for (const t of link.targets) {
      if (t.exclusionOnly) return false;
      if (t.spec.name === 'TX') {
        // TX:name, &TX:name, TX:/pattern/ (recorded as a selection); the whole of TX is not.
        if (t.selector === null) return false;
        if (t.selector.regex !== null && (t.selector.regex.global || t.selector.regex.sticky)) return false;
      } else if (!t.spec.cacheable) {
        // Request data is stored once per transaction (cacheable): its values are the rule's inputs,
        // compared on replay. Anything that changes under a rule (MATCHED_VARS, IP …) is not.
        return false;
      }
    }
  }
  return true;
}

/** What one evaluation of a replayable rule did, and under which TX values and request data. */
export interface ReplayRecord {
  /**
   * The request-data targets the rule read and what they selected: a scalar's value (null: absent) or
   * a collection's selected entries as key, value, key, value …
   */
  readonly inputs: readonly Target[];
  readonly snapshots: readonly (string | null | readonly string[])[];
  /** TX keys read before the rule wrote them, their numbers (tx-keys.ts; -1: none), and the values they held (undefined: absent). */
  readonly keys: readonly string[];
  readonly keyIds: Int32Array;
  readonly values: readonly (string | undefined)[];
  /** TX key patterns the rule selected, and what each selected before the rule (key, value …). */
  readonly selectionPatterns: readonly RegExp[];
  readonly selected: readonly (readonly string[])[];
  /** TX writes in order: key, value (null: deleted), key, value … */
  readonly writes: readonly (string | null)[];
  /** The number of each written key (-1: none). */
  readonly writeIds: Int32Array;
  /** The match record the rule added (frozen, shared by the transactions that replay it), or null. */
  readonly match: RuleMatch | null;
  readonly skipCount: number;
  readonly skipAfter: string | null;
  /** MATCHED_VAR / MATCHED_VAR_NAME after the rule, when it changed them. */
  readonly matchedVarChanged: boolean;
  readonly matchedVar: string | null;
  readonly matchedVarName: string | null;
}

/**
 * A recording keeps references to the values it saw; one that saw a longer value (a request body, a
 * capture of one) is dropped, so records never pin large bodies and checks never compare them.
 */
export const MAX_RECORDED_VALUE = 4096;

/** The longest rest of a slot whose recordings are not replayed (evaluations). */
const MAX_COOLDOWN = 1024;

/**
 * Recordings a slot keeps. Inputs that alternate are common: clients send their headers in their own
 * order (920450 records the header names in order), and two browsers, or two threads of one load
 * generator, alternate request by request. With one recording such a rule never replayed; a few cover
 * the usual mix, and a miss costs one check per recording (slots that keep missing rest, below).
 */
export const MAX_RECORDS = 4;

/** A replayable rule's place in the policy: its recent recordings (shared by the policy's transactions). */
export class ReplaySlot {
  /** Most recently recorded or replayed first; at most MAX_RECORDS. */
  readonly records: ReplayRecord[] = [];
  /**
   * False for rules that can interrupt or allow (deny, block, drop, redirect, allow): only their
   * no-match outcomes are recorded; a match is always evaluated.
   */
  readonly passOnly: boolean;
  /**
   * Recordings in a row that were not replayed (the inputs changed: a fresh session cookie …). After a
   * few the slot rests: `cooldown` evaluations go without check or recording, twice as many each time
   * (up to MAX_COOLDOWN), so a rule whose inputs never repeat costs what it cost before replay existed.
   */
  misses = 0;
  cooldown = 0;
  constructor(rule: Rule) {
    this.passOnly = rule.disruptive.kind === 'pass';
  }

  /** A recording that was not replayed, or could not be made: from the third in a row, rest. */
  missed(): void {
    if (++this.misses >= 3) this.cooldown = Math.min(MAX_COOLDOWN, 1 << Math.min(this.misses + 1, 30));
  }

  /** Keeps a new recording first, dropping the oldest beyond MAX_RECORDS. */
  add(r: ReplayRecord): void {
    const list = this.records;
    if (list.length >= MAX_RECORDS) list.pop();
    list.unshift(r);
  }

  /** Moves the recording at `i` (just replayed) to the front, so the common inputs are checked first. */
  promote(i: number): void {
    if (i === 0) return;
    const list = this.records;
    const r = list[i]!;
    for (let k = i; k > 0; k--) list[k] = list[k - 1]!;
    list[0] = r;
  }
}

/**
 * TX, which can log the keys read and the writes made while a replayable rule is recorded. Outside a
 * recording the logs are null and it is a MapCollection.
 */
export class TxCollection extends MapCollection {
  /**
   * The entry of each numbered key (tx-keys.ts), undefined when absent: always the entry `map` holds for
   * that key, since every change of `map` goes through put/remove.
   */
  readonly slots: (VarEntry | undefined)[];
  /** While recording: keys read (not written before in this recording) and their values. */
  readKeys: string[] | null = null;
  readValues: (string | undefined)[] | null = null;
  /** While recording: writes, as key, value (null: deleted) pairs. */
  writes: (string | null)[] | null = null;
  /** While recording: key patterns selected (TX:/^header_name_/) and what they selected before the rule. */
  recSelections: { res: RegExp[]; selected: string[][] } | null = null;
  /** Set when a read cannot be described (the whole collection, a pattern over keys the rule deleted). */
  unrecordable = false;
  /** While recording: the value each key written by the rule held before it (undefined: absent). */
  private readonly before = new Map<string, string | undefined>();
  /** While recording: keys that existed before the rule and that it deleted. */
  private readonly deleted: string[] = [];

  constructor(readonly keys: TxKeys) {
    super();
    this.slots = new Array<VarEntry | undefined>(keys.size).fill(undefined);
  }

  /** Starts logging reads and writes into the given arrays (evaluateReplayable). */
  startRecording(keys: string[], values: (string | undefined)[], writes: (string | null)[], selections: { res: RegExp[]; selected: string[][] }): void {
    this.readKeys = keys;
    this.readValues = values;
    this.writes = writes;
    this.recSelections = selections;
    this.unrecordable = false;
    this.before.clear();
    this.deleted.length = 0;
  }

  stopRecording(): void {
    this.readKeys = null;
    this.readValues = null;
    this.writes = null;
    this.recSelections = null;
  }

  override get(lowerKey: string): string | undefined {
    const v = super.get(lowerKey);
    if (this.readKeys !== null) this.noteRead(lowerKey, v);
    return v;
  }

  override byKey(lowerKey: string): readonly VarEntry[] {
    const r = super.byKey(lowerKey);
    if (this.readKeys !== null) this.noteRead(lowerKey, r.length === 0 ? undefined : r[0]!.value);
    return r;
  }

  override all(): readonly VarEntry[] {
    if (this.readKeys !== null) this.unrecordable = true;
    return super.all();
  }

  override select(re: RegExp): readonly VarEntry[] {
    // MapCollection.select lists the collection through all(): not a whole-collection read of the rule.
    const keys = this.readKeys;
    this.readKeys = null;
    const sel = super.select(re);
    this.readKeys = keys;
    const s = this.recSelections;
    if (s === null || this.unrecordable || s.res.includes(re)) return sel;
    // What the pattern selected before the rule: the keys it has not written, with their values, and
    // the keys it wrote that existed before, with their earlier values, in the same (map) order. A key
    // the rule deleted lost its place in that order: such a selection is not recorded.
    for (const k of this.deleted) {
      if (re.test(k)) {
        this.unrecordable = true;
        return sel;
      }
    }
    const flat: string[] = [];
    for (let i = 0; i < sel.length; i++) {
      const e = sel[i]!;
      let v: string | undefined = e.value;
      if (this.before.has(e.key)) v = this.before.get(e.key);
      if (v !== undefined && v.length > MAX_RECORDED_VALUE) this.unrecordable = true;
      if (v !== undefined) flat.push(e.key, v);
    }
    s.res.push(re);
    s.selected.push(flat);
    return sel;
  }

  // Every write reaches setLower (MapCollection.set lower-cases and calls it), so the journal sees all.
  override setLower(k: string, value: string): VarEntry {
    if (this.writes !== null) {
      if (value.length > MAX_RECORDED_VALUE) this.unrecordable = true;
      if (!this.before.has(k)) this.before.set(k, super.get(k));
      const e = this.put(k, value, this.keys.id(k));
      this.writes.push(k, value);
      return e;
    }
    return this.put(k, value, this.keys.id(k));
  }

  override deleteLower(lowerKey: string): void {
    if (this.writes !== null) {
      if (!this.before.has(lowerKey)) this.before.set(lowerKey, super.get(lowerKey));
      if (this.before.get(lowerKey) !== undefined && !this.deleted.includes(lowerKey) && this.map.has(lowerKey)) this.deleted.push(lowerKey);
      this.remove(lowerKey, this.keys.id(lowerKey));
      this.writes.push(lowerKey, null);
      return;
    }
    this.remove(lowerKey, this.keys.id(lowerKey));
  }

  /** setLower for a key whose number (or -1) the caller knows (inside a recording, setLower itself). */
  setById(k: string, id: number, value: string): void {
    if (this.writes !== null) this.setLower(k, value);
    else this.put(k, value, id);
  }

  /** deleteLower for a key whose number (or -1) the caller knows (inside a recording, deleteLower itself). */
  deleteById(k: string, id: number): void {
    if (this.writes !== null) this.deleteLower(k);
    else this.remove(k, id);
  }

  /** The entry of numbered key `id`, or of `k` when it has no number. */
  entryOf(k: string, id: number): VarEntry | undefined {
    return id >= 0 ? this.slots[id] : this.map.get(k);
  }

  private put(k: string, value: string, id: number): VarEntry {
    if (id < 0) return super.setLower(k, value);
    const e = this.slots[id];
    if (e !== undefined) {
      e.value = value;
      return e;
    }
    return (this.slots[id] = this.insert(entry(k, value, id)));
  }

  /** As MapCollection's, with the policy's answer for numbered keys (TxKeys.matching): no test per key. */
  protected override scan(re: RegExp, all: readonly VarEntry[]): VarEntry[] {
    const table = this.keys.matching(re);
    const lit = literalSelector(re);
    const out: VarEntry[] = [];
    for (let i = 0; i < all.length; i++) {
      const e = all[i]!;
      const id = e.txId;
      if (id >= 0 ? table[id] === 1 : lit !== null ? lit.test(e.key) : re.test(e.key)) out.push(e);
    }
    return out;
  }

  private remove(k: string, id: number): void {
    if (id >= 0) {
      if (this.slots[id] === undefined) return; // absent (TX.0 … TX.9 are deleted around every capture)
      this.slots[id] = undefined;
    }
    super.deleteLower(k);
  }

  /** Writes recorded by a ReplayRecord (keys are lower case already). */
  applyWrites(r: ReplayRecord): void {
    const writes = r.writes;
    const ids = r.writeIds;
    for (let i = 0; i < writes.length; i += 2) {
      const v = writes[i + 1];
      if (v === null || v === undefined) this.remove(writes[i]!, ids[i >>> 1]!);
      else this.put(writes[i]!, v, ids[i >>> 1]!);
    }
  }

  /** True when every key the record read, and every pattern it selected, holds the same values now. */
  holds(r: ReplayRecord): boolean {
    const keys = r.keys;
    const ids = r.keyIds;
    const values = r.values;
    for (let i = 0; i < keys.length; i++) if (this.entryOf(keys[i]!, ids[i]!)?.value !== values[i]) return false;
    const res = r.selectionPatterns;
    for (let i = 0; i < res.length; i++) {
      const sel = super.select(res[i]!);
      const flat = r.selected[i]!;
      if (sel.length * 2 !== flat.length) return false;
      for (let k = 0; k < sel.length; k++) if (sel[k]!.key !== flat[2 * k] || sel[k]!.value !== flat[2 * k + 1]) return false;
    }
    return true;
  }

  private noteRead(lowerKey: string, value: string | undefined): void {
    if (this.before.has(lowerKey)) return; // the rule's own write (or what it deleted)
    if (value !== undefined && value.length > MAX_RECORDED_VALUE) this.unrecordable = true;
    const keys = this.readKeys!;
    if (keys.includes(lowerKey)) return;
    keys.push(lowerKey);
    this.readValues!.push(value);
  }
}
