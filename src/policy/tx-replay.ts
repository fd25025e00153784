/**
 * Replay of rules whose whole input is TX.
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
 * Anything else is evaluated and recorded again (one recording per rule, the last).
 *
 * Which rules qualify is decided at load (`replayable`): every link's targets are TX keys named exactly
 * (TX:name, &TX:name), the operator is a pure function of value and parameter, every macro (operator
 * parameter, setvar key and value, msg, logdata) reads only TX, RULE or the rule's own MATCHED_VAR*,
 * the only actions with an effect are setvar on TX and skip/skipAfter, and the rule is `pass`. Reads
 * and writes are logged by the TX collection itself (TxCollection), so a read path the classifier did
 * not foresee (a whole-collection read) spoils the recording instead of replaying a wrong answer.
 */
import { MapCollection, type VarEntry } from './collection.js';
import { compileMacro } from './macro.js';
import type { Macro } from './types.js';
import type { Rule } from './rule.js';
import type { RuleMatch } from './transaction.js';

/** Operators whose answer depends only on the value and the (expanded) parameter. */
const PURE_OPERATORS = new Set([
  'rx', 'pm', 'pmf', 'pmfromfile', 'streq', 'contains', 'containsword', 'beginswith', 'endswith', 'within',
  'eq', 'ge', 'gt', 'le', 'lt', 'strmatch', 'unconditionalmatch', 'nomatch', 'ipmatch', 'ipmatchfromfile',
  'validatebyterange', 'validateurlencoding', 'validateutf8encoding',
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
 * True when the rule (with its chain) reads nothing but TX and affects nothing but TX, the flow and its
 * own match record, so that the same TX values give the same outcome.
 */
export function replayable(rule: Rule): boolean {
  if (rule.marker !== null || rule.disruptive.kind !== 'pass') return false;
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
      if (t.spec.name !== 'TX' || t.exclusionOnly || t.selector === null || t.selector.regex !== null || t.selector.key === null) return false;
    }
  }
  return true;
}

/** What one evaluation of a replayable rule did, and under which TX values. */
export interface ReplayRecord {
  /** TX keys read before the rule wrote them, and the values they held (undefined: absent). */
  readonly keys: readonly string[];
  readonly values: readonly (string | undefined)[];
  /** TX writes in order: key, value (null: deleted), key, value … */
  readonly writes: readonly (string | null)[];
  /** The match record the rule added (frozen, shared by the transactions that replay it), or null. */
  readonly match: RuleMatch | null;
  readonly skipCount: number;
  readonly skipAfter: string | null;
  /** MATCHED_VAR / MATCHED_VAR_NAME after the rule, when it changed them. */
  readonly matchedVarChanged: boolean;
  readonly matchedVar: string | null;
  readonly matchedVarName: string | null;
}

/** A replayable rule's place in the policy: its last recording (shared by the policy's transactions). */
export class ReplaySlot {
  record: ReplayRecord | null = null;
}

/**
 * TX, which can log the keys read and the writes made while a replayable rule is recorded. Outside a
 * recording the logs are null and it is a MapCollection.
 */
export class TxCollection extends MapCollection {
  /** While recording: keys read (not written before in this recording) and their values. */
  readKeys: string[] | null = null;
  readValues: (string | undefined)[] | null = null;
  /** While recording: writes, as key, value (null: deleted) pairs. */
  writes: (string | null)[] | null = null;
  /** Set when a read cannot be described by keys (the whole collection, a key pattern). */
  unrecordable = false;

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
    if (this.readKeys !== null) this.unrecordable = true;
    return super.select(re);
  }

  override set(key: string, value: string): void {
    super.set(key, value);
    if (this.writes !== null) this.writes.push(key.toLowerCase(), value);
  }

  override deleteLower(lowerKey: string): void {
    super.deleteLower(lowerKey);
    if (this.writes !== null) this.writes.push(lowerKey, null);
  }

  /** Writes recorded by a ReplayRecord (keys are lower case already). */
  applyWrites(writes: readonly (string | null)[]): void {
    for (let i = 0; i < writes.length; i += 2) {
      const v = writes[i + 1];
      if (v === null || v === undefined) super.deleteLower(writes[i]!);
      else super.set(writes[i]!, v);
    }
  }

  /** True when every key the record read holds the same value now. */
  holds(r: ReplayRecord): boolean {
    const keys = r.keys;
    const values = r.values;
    for (let i = 0; i < keys.length; i++) if (this.map.get(keys[i]!)?.value !== values[i]) return false;
    return true;
  }

  private noteRead(lowerKey: string, value: string | undefined): void {
    const w = this.writes;
    if (w !== null) for (let i = 0; i < w.length; i += 2) if (w[i] === lowerKey) return; // its own write
    const keys = this.readKeys!;
    if (keys.includes(lowerKey)) return;
    keys.push(lowerKey);
    this.readValues!.push(value);
  }
}
