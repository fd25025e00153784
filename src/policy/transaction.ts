/**
 * One HTTP request/response pair under a compiled policy (a ModSecurity "transaction").
 *
 * The caller feeds data phase by phase; each phase returns an Interruption or null. A block is a
 * value: nothing here throws on request data. Rules run in phases 1..5 in load order, with
 * skip/skipAfter, chains, per-match non-disruptive actions (ModSecurity v2 semantics: setvar runs for
 * every matched value), and disruptive actions only when the rule engine is On.
 */
import { performance } from 'node:perf_hooks';
import { JoinedCollection, ListCollection, MapCollection, entry, entryBytes, summarizeEntries, type CollectionView, type EntrySummary, type VarEntry } from './collection.js';
import type { CollectionStore, PersistentRecord } from './collection-store.js';
import type { CompiledPolicy } from './seclang/parser.js';
import type { RuleEngineMode } from './seclang/settings.js';
import type { Rule, Target, KeyMatcher } from './rule.js';
import type { OperatorTx } from './types.js';
import type { VariableSpec } from './variables/variable-spec.js';
import { MULTIPART_FLAGS } from './variables/multipart.js';
import { NamesView } from './variables/variable-spec.js';
import { inRange, type IdRange } from './id-range.js';
import { parseRequestBody } from './body/index.js';
import { meetsByteSets, presentBytes } from './value-filter.js';
import { CAPTURE_KEYS } from './tx-keys.js';
import { MAX_RECORDED_VALUE, TxCollection, type ReplayRecord, type ReplaySlot } from './tx-replay.js';
import { NOT_QUICK, TARGET_COLLECTION, TARGET_COUNT, TARGET_SCALAR, TARGET_TX, type QuickRejectTable } from './quick-reject.js';

export type { RuleEngineMode } from './seclang/settings.js';
export type BodyProcessorName = 'URLENCODED' | 'MULTIPART' | 'JSON' | 'XML';

export interface Interruption {
  readonly action: 'deny' | 'drop' | 'redirect';
  readonly status: number;
  readonly ruleId: number;
  /** redirect only. */
  readonly location: string | null;
}

export interface MatchedValue {
  /** e.g. "ARGS:id", "REQUEST_HEADERS:User-Agent", "REQUEST_URI". */
  readonly name: string;
  /** The value the operator saw (after transformations). */
  readonly value: string;
}

export interface RuleMatch {
  readonly ruleId: number;
  readonly phase: number;
  readonly msg: string;
  readonly logdata: string;
  readonly severity: number | null;
  readonly tags: readonly string[];
  readonly ver: string | null;
  readonly matched: readonly MatchedValue[];
  /** The rule's (resolved) disruptive action. */
  readonly disruptive: Rule['disruptive']['kind'];
  /** True when this match interrupted the transaction. */
  readonly interrupted: boolean;
  /** False for `nolog` rules: not alerts, kept for diagnostics. */
  readonly log: boolean;
}

export interface TransactionOptions {
  readonly id: string;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
  readonly store: CollectionStore;
  /** Forces the rule engine mode (simulation mode runs On policies as DetectionOnly). */
  readonly ruleEngine?: RuleEngineMode;
}

export interface RequestHead {
  readonly method: string;
  /** Request target as received. */
  readonly uri: string;
  /** e.g. "HTTP/1.1". */
  readonly protocol: string;
  readonly headers: readonly (readonly [string, string])[];
}

export interface ResponseHead {
  readonly status: number;
  readonly protocol: string;
  readonly headers: readonly (readonly [string, string])[];
}

interface RuntimeTargetRemoval {
  readonly range: IdRange | null;
  readonly tag: RegExp | null;
  readonly msg: RegExp | null;
  readonly targets: readonly Target[];
}

const NO_VALUES: readonly VarEntry[] = Object.freeze([]);
/** viewSummary: the view's collection keeps no version, so it cannot be summarised (never rejects). */
const NO_SUMMARY: EntrySummary = { version: -1, bytes: new Uint32Array(8), known: new Uint32Array(0), own: null };

/** Keys of the RULE collection (%{rule.id}, %{rule.msg} …), read from the rule being evaluated. */
class RuleView implements CollectionView {
  rule: Rule | null = null;
  constructor(private readonly tx: Transaction) {}
  all(): readonly VarEntry[] {
    return ['id', 'msg', 'severity', 'rev', 'ver', 'phase', 'logdata'].flatMap((k) => this.byKey(k));
  }
  byKey(key: string): readonly VarEntry[] {
    const r = this.rule;
    if (!r) return NO_VALUES;
    let v: string | null = null;
    switch (key) {
      case 'id':
        v = String(r.id || r.parentId);
        break;
      case 'msg':
        v = r.msg ? r.msg.constant ?? r.msg.expand(this.tx) : null;
        break;
      case 'logdata':
        v = r.logdata ? r.logdata.expand(this.tx) : null;
        break;
      case 'severity':
        v = r.severity === null ? null : String(r.severity);
        break;
      case 'rev':
        v = r.rev;
        break;
      case 'ver':
        v = r.ver;
        break;
      case 'phase':
        v = String(r.phase);
        break;
    }
    return v === null ? NO_VALUES : [entry(key, v)];
  }
}

export class Transaction implements OperatorTx {
  readonly id: string;
  readonly policy: CompiledPolicy;
  private readonly store: CollectionStore;

  // ---- request data (read by variables/) --------------------------------------------------------
  readonly scalars = new Map<string, VarEntry>();
  readonly argsGet = new ListCollection();
  readonly argsPost = new ListCollection();
  readonly args = new JoinedCollection([this.argsGet, this.argsPost]);
  readonly requestHeaders = new ListCollection();
  readonly requestCookies = new ListCollection();
  readonly files = new ListCollection();
  readonly filesNames = new ListCollection();
  readonly filesSizes = new ListCollection();
  readonly filesTmpNames = new ListCollection();
  filesCombinedSize = 0;
  readonly multipartPartHeaders = new ListCollection();
  readonly xml = new ListCollection();
  readonly xmlAttributes = new ListCollection();
  readonly responseHeaders = new ListCollection();
  readonly txVars: TxCollection;
  readonly persistent = new Map<string, PersistentRecord>();
  readonly env = new MapCollection();
  readonly ruleVars: RuleView = new RuleView(this);
  /** The *_NAMES views, one per transaction (see NamesView). */
  readonly names = {
    args: new NamesView(this.args),
    argsGet: new NamesView(this.argsGet),
    argsPost: new NamesView(this.argsPost),
    requestHeaders: new NamesView(this.requestHeaders),
    requestCookies: new NamesView(this.requestCookies),
    responseHeaders: new NamesView(this.responseHeaders),
  };
  highestSeverity = 255;
  readonly startedHr = performance.now();
  readonly startedAt = Date.now();

  // ---- matching state -------------------------------------------------------------------------
  matchedVar: string | null = null;
  matchedVarName: string | null = null;
  readonly matchedVars = new ListCollection();
  readonly matches: RuleMatch[] = [];
  interruption: Interruption | null = null;

  // ---- per-transaction configuration (ctl) -------------------------------------------------------
  ruleEngine: RuleEngineMode;
  bodyProcessor: BodyProcessorName | null = null;
  requestBodyAccess: boolean;
  responseBodyAccess: boolean;
  forceRequestBodyVariable = false;
  requestBodyLimit: number;
  auditEngine: string | null = null;
  auditLogParts: string | null = null;
  private readonly removedRanges: IdRange[] = [];
  private readonly removedTags: RegExp[] = [];
  private readonly removedMsgs: RegExp[] = [];
  private readonly removedTargets: RuntimeTargetRemoval[] = [];

  // ---- flow -------------------------------------------------------------------------------------
  private skipCount = 0;
  private skipAfterTarget: string | null = null;
  private allowScope: 'all' | 'phase' | 'request' | null = null;
  private lastPhase = 0;
  private contentType = '';

  // ---- operator capture (OperatorTx) ------------------------------------------------------------
  readonly tx: unknown = this;
  capturing = false;
  private readonly pendingCaptures: (string | undefined)[] = [];
  /** Collection views by quick-reject id, resolved on first use. */
  private readonly quickViews: (CollectionView | null | undefined)[];
  /** Per quick-reject view with a key or exclusions: its entries and summary, for a collection version. */
  private readonly viewVersions: number[];
  private readonly viewLists: (readonly VarEntry[] | undefined)[];
  private readonly viewSums: (EntrySummary | null)[];
  /** Per quick-reject view, what quickRejects read of it in the current phase (phaseStamp). */
  private readonly phaseStamps: number[];
  private readonly phaseSums: (EntrySummary | null | undefined)[];
  private readonly phaseScalars: (VarEntry | null | undefined)[];
  private phaseStamp = 0;
  /** While a replayable rule is recorded: the request-data targets it read and what they selected. */
  private recInputs: Target[] | null = null;
  private recSnapshots: (string | null | readonly string[])[] | null = null;
  /** Bitmap of an intermediate transformed value (transform()). */
  private readonly scratchBytes = new Uint32Array(8);
  private capturesSet = false;

  constructor(policy: CompiledPolicy, opts: TransactionOptions) {
    this.id = opts.id;
    this.policy = policy;
    this.txVars = new TxCollection(policy.txKeys);
    // Per quick-reject view, sized once: arrays grown index by index were reallocated three or four
    // times per transaction (≈ 7 KiB of the ≈ 54 KiB a CRS GET allocated).
    const views = policy.quickReject.views.length;
    this.quickViews = new Array<CollectionView | null | undefined>(views).fill(undefined);
    this.viewVersions = new Array<number>(views).fill(-1);
    this.viewLists = new Array<readonly VarEntry[] | undefined>(views).fill(undefined);
    this.viewSums = new Array<EntrySummary | null>(views).fill(null);
    this.phaseStamps = new Array<number>(views).fill(0);
    this.phaseSums = new Array<EntrySummary | null | undefined>(views).fill(undefined);
    this.phaseScalars = new Array<VarEntry | null | undefined>(views).fill(undefined);
    this.store = opts.store;
    const s = policy.settings;
    this.ruleEngine = opts.ruleEngine ?? s.ruleEngine;
    this.requestBodyAccess = s.requestBodyAccess;
    this.responseBodyAccess = s.responseBodyAccess;
    this.requestBodyLimit = s.requestBodyLimit;
    this.setScalar('REMOTE_ADDR', opts.clientIp);
    this.setScalar('REMOTE_HOST', opts.clientIp);
    this.setScalar('REMOTE_PORT', String(opts.clientPort));
    this.setScalar('SERVER_ADDR', opts.serverIp);
    this.setScalar('SERVER_PORT', String(opts.serverPort));
    this.setScalar('UNIQUE_ID', opts.id);
  }

  setScalar(name: string, value: string): void {
    this.scalars.set(name, entry('', value));
  }

  // =================================================================================================
  // Phases
  // =================================================================================================

  /** Phase 1. */
  processRequestHeaders(head: RequestHead): Interruption | null {
    this.populateRequestHead(head);
    this.runPhase(1);
    return this.interruption;
  }

  /** Phase 2. `body` is a byte string; `complete` false when it was cut at the inspection limit. */
  processRequestBody(body: string, complete: boolean): Interruption | null {
    if (this.interruption) return this.interruption;
    this.populateRequestBody(body, complete);
    this.runPhase(2);
    return this.interruption;
  }

  /** Phase 3. */
  processResponseHeaders(head: ResponseHead): Interruption | null {
    if (this.interruption) return this.interruption;
    this.setScalar('RESPONSE_STATUS', String(head.status));
    this.setScalar('RESPONSE_PROTOCOL', head.protocol);
    this.setScalar('STATUS_LINE', `${head.protocol} ${head.status}`);
    for (const [k, v] of head.headers) {
      this.responseHeaders.add(k, v);
      const lk = k.toLowerCase();
      if (lk === 'content-type') this.setScalar('RESPONSE_CONTENT_TYPE', v);
      else if (lk === 'content-length') this.setScalar('RESPONSE_CONTENT_LENGTH', v);
    }
    this.runPhase(3);
    return this.interruption;
  }

  /** True when phase 4 wants the response body (access on and MIME type listed). */
  wantsResponseBody(): boolean {
    if (!this.responseBodyAccess || this.interruption) return false;
    const ct = (this.scalars.get('RESPONSE_CONTENT_TYPE')?.value ?? '').split(';')[0]!.trim().toLowerCase();
    return ct !== '' && this.policy.settings.responseBodyMimeTypes.includes(ct);
  }

  /** Phase 4. */
  processResponseBody(body: string, complete: boolean): Interruption | null {
    if (this.interruption) return this.interruption;
    if (this.wantsResponseBody()) {
      this.setScalar('RESPONSE_BODY', body);
      if (!complete) this.setScalar('OUTBOUND_DATA_ERROR', '1');
    }
    this.runPhase(4);
    return this.interruption;
  }

  /** Phase 5 (always runs, also after an interruption). */
  processLogging(): void {
    if (this.lastPhase >= 5) return;
    this.runPhase(5);
  }

  /** Rule ids of logged matches, in order, without repeats. */
  matchedRuleIds(): number[] {
    const out: number[] = [];
    for (const m of this.matches) if (m.log && !out.includes(m.ruleId)) out.push(m.ruleId);
    return out;
  }

  // =================================================================================================
  // Request data
  // =================================================================================================

  private populateRequestHead(head: RequestHead): void {
    const { method, uri, protocol } = head;
    this.setScalar('REQUEST_METHOD', method);
    this.setScalar('REQUEST_PROTOCOL', protocol);
    this.setScalar('REQUEST_LINE', `${method} ${uri} ${protocol}`);
    this.setScalar('REQUEST_URI_RAW', uri);
    // Absolute-form targets: REQUEST_URI never contains scheme and host (ModSecurity v2).
    let rel = uri;
    const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(uri);
    if (abs) rel = uri.slice(abs[0].length) || '/';
    this.setScalar('REQUEST_URI', rel);
    const q = rel.indexOf('?');
    // REQUEST_FILENAME is the percent-decoded path (what ModSecurity reports; CRS 933151 relies on it).
    const path = percentDecode(q < 0 ? rel : rel.slice(0, q));
    this.setScalar('REQUEST_FILENAME', path);
    this.setScalar('PATH_INFO', '');
    this.setScalar('REQUEST_BASENAME', path.slice(path.lastIndexOf('/') + 1));
    if (q >= 0) {
      const qs = rel.slice(q + 1);
      this.setScalar('QUERY_STRING', qs);
      parseUrlEncoded(qs, this.policy.settings.argumentSeparator, this.argsGet, this.policy.settings.argumentsLimit);
    } else {
      this.setScalar('QUERY_STRING', '');
    }
    let headerBytes = 0;
    for (const [k, v] of head.headers) {
      this.requestHeaders.add(k, v);
      headerBytes += k.length + v.length + 4;
      const lk = k.toLowerCase();
      if (lk === 'cookie') parseCookies(v, this.requestCookies, this.policy.settings.cookieFormat);
      else if (lk === 'content-type') this.contentType = v;
      else if (lk === 'host') this.setScalar('SERVER_NAME', v.replace(/:\d+$/, ''));
      else if (lk === 'authorization') this.setScalar('AUTH_TYPE', v.split(' ')[0] ?? '');
    }
    this.setScalar('FULL_REQUEST_LENGTH', String(method.length + uri.length + protocol.length + 4 + headerBytes));
    const ct = this.contentType.toLowerCase();
    if (ct.startsWith('application/x-www-form-urlencoded')) this.bodyProcessor = 'URLENCODED';
    else if (ct.startsWith('multipart/form-data')) this.bodyProcessor = 'MULTIPART';
  }

  private populateRequestBody(body: string, complete: boolean): void {
    this.setScalar('REQBODY_ERROR', '0');
    this.setScalar('REQBODY_PROCESSOR_ERROR', '0');
    this.setScalar('INBOUND_DATA_ERROR', complete ? '0' : '1');
    if (!this.requestBodyAccess) return;
    if (body.length > this.requestBodyLimit) body = body.slice(0, this.requestBodyLimit);
    this.setScalar('REQUEST_BODY_LENGTH', String(body.length));
    const proc = this.bodyProcessor;
    // ModSecurity v2 fills REQUEST_BODY only for the URLENCODED processor or when
    // ctl:forceRequestBodyVariable asks for it (CRS 901340 does so for bodies without a processor).
    // XML, JSON and multipart bodies are inspected through ARGS/XML/FILES only (CRS test 944110-11).
    if (proc === 'URLENCODED' || this.forceRequestBodyVariable) this.setScalar('REQUEST_BODY', body);
    if (proc === null || body.length === 0) return;
    const r = parseRequestBody(proc, body, this.contentType, { maxArgs: this.policy.settings.argumentsLimit });
    for (const [k, v] of r.args) this.argsPost.add(k, v);
    for (const f of r.files) {
      this.files.add(f.field, f.filename);
      this.filesNames.add(f.field, f.field);
      this.filesSizes.add(f.field, String(f.size));
      this.filesCombinedSize += f.size;
    }
    if (r.error !== null) {
      this.setScalar('REQBODY_ERROR', '1');
      this.setScalar('REQBODY_ERROR_MSG', r.error);
      this.setScalar('REQBODY_PROCESSOR_ERROR', '1');
      this.setScalar('REQBODY_PROCESSOR_ERROR_MSG', r.error);
      if (proc === 'URLENCODED') this.setScalar('URLENCODED_ERROR', '1');
    }
    if (r.multipart) {
      const mp = r.multipart as unknown as Record<string, unknown>;
      for (const flag of MULTIPART_FLAGS) {
        const v = mp[flag];
        this.setScalar(flag, typeof v === 'number' ? String(v) : '0');
      }
      for (const [name, line] of r.multipart.partHeadersByName) this.multipartPartHeaders.add(name, line);
      const lastName = r.multipart.names[r.multipart.names.length - 1];
      const lastFile = r.multipart.filenames[r.multipart.filenames.length - 1];
      if (lastName !== undefined) this.setScalar('MULTIPART_NAME', lastName);
      if (lastFile !== undefined) this.setScalar('MULTIPART_FILENAME', lastFile);
    }
    if (r.xmlText) for (const t of r.xmlText) this.xml.add('', t);
    if (r.xmlAttributes) for (const t of r.xmlAttributes) this.xmlAttributes.add('', t);
  }

  // =================================================================================================
  // Rule evaluation
  // =================================================================================================

  private runPhase(phase: number): void {
    this.lastPhase = phase;
    if (this.ruleEngine === 'Off') return;
    if (this.interruption && phase !== 5) return;
    if (this.allowScope === 'all' && phase !== 5) return;
    if (this.allowScope === 'request' && phase <= 2) return;
    if (this.allowScope === 'phase') this.allowScope = null;
    const rules = this.policy.phases[phase]!;
    const skipNext = this.policy.skipAfter[phase]!;
    const quick = this.policy.quickReject.phases[phase]!;
    const quickSlot = quick.slot;
    const replays = this.policy.replay[phase]!;
    this.phaseStamp++;
    let i = 0;
    while (i < rules.length) {
      // Rules that cannot match anything in this request are passed over from the flat table alone
      // (quick-reject.ts), as the loop below passes over a rule that does not match: such a rule
      // leaves nothing a later rule can see (MATCHED_VARS is reset when each rule starts).
      if (quickSlot[i] !== NOT_QUICK && this.quickRejects(quick, i)) {
        i++;
        continue;
      }
      const rule = rules[i]!;
      if (rule.marker !== null || this.isRemoved(rule)) {
        i++;
        continue;
      }
      this.skipCount = 0;
      this.skipAfterTarget = null;
      const replay = replays[i];
      if (replay === null || replay === undefined || this.removedTargets.length > 0) this.evaluateRule(rule, phase);
      else this.evaluateReplayable(rule, phase, replay);
      if ((this.interruption && phase !== 5) || (this.ruleEngine as RuleEngineMode) === 'Off') return;
      if (this.allowScope !== null) return;
      if (this.skipAfterTarget !== null) {
        i = skipNext[i]!; // this rule's own skipAfter, resolved at load (CompiledPolicy.skipAfter)
      } else if (this.skipCount > 0) {
        let n = this.skipCount;
        i++;
        while (i < rules.length && n > 0) {
          if (rules[i]!.marker === null) n--;
          i++;
        }
      } else {
        i++;
      }
    }
  }

  /** True when the table's rule `i` cannot match this request (see quick-reject.ts). */
  private quickRejects(q: QuickRejectTable, i: number): boolean {
    const slot = q.slot[i]!;
    const word = slot >= 0 ? slot >>> 5 : 0;
    const bit = slot >= 0 ? 1 << (slot & 31) : 0;
    const fStart = q.filterStart[i]!;
    const fEnd = q.filterEnd[i]!;
    const filters = q.filters;
    for (let c = q.collStart[i]!, end = q.collEnd[i]!; c < end; c++) {
      const kind = q.kinds[c]!;
      if (kind === TARGET_SCALAR) {
        const id = q.colls[c]!;
        let e = this.phaseScalars[id];
        if (this.phaseStamps[id] !== this.phaseStamp) {
          e = this.phaseScalars[id] = this.policy.quickReject.views[id]!.spec.scalar!(this);
          this.phaseStamps[id] = this.phaseStamp;
        }
        if (e === undefined) return false;
        if (e === null) continue; // absent
        if (bit !== 0 && ((e.memo ??= this.policy.noMatchMemo.record(e.value))[word]! & bit) !== 0) continue;
        if (fStart < fEnd && !meetsFlatByteSets(entryBytes(e), filters, fStart, fEnd)) {
          // As evalEntry: a value the filter rules out is remembered as not matching (one bit next time).
          if (bit !== 0) e.memo![word]! |= bit;
          continue;
        }
        return false;
      }
      if (kind === TARGET_COLLECTION) {
        // Request collections do not change within a phase: one summary per view and phase.
        const id = q.colls[c]!;
        let sum = this.phaseSums[id];
        if (this.phaseStamps[id] !== this.phaseStamp) {
          sum = this.phaseSums[id] = this.viewSummary(id);
          this.phaseStamps[id] = this.phaseStamp;
        }
        if (sum === undefined) return false;
        if (sum === null) continue; // no entries
        if (sum === NO_SUMMARY) return false;
        if (bit !== 0 && (sum.known[word]! & bit) !== 0) continue;
        if (fStart < fEnd && !meetsFlatByteSets(sum.bytes, filters, fStart, fEnd)) {
          if (bit !== 0) this.rememberFiltered(id, word, bit);
          continue;
        }
        return false;
      }
      if (kind === TARGET_COUNT) {
        // The count as countTarget computes it, unless ctl removed targets at run time.
        if (this.removedTargets.length > 0) return false;
        const n = this.viewCount(q.colls[c]!);
        if (n < 0) return false;
        if ((this.policy.noMatchMemo.record(String(n))[word]! & bit) !== 0) continue;
        return false;
      }
      const e = this.txVars.slots[q.colls[c]!]; // the key's number (tx-keys.ts)
      if (kind === TARGET_TX) {
        if (e === undefined) continue; // no value
        if ((this.mutableRecord(e)[word]! & bit) !== 0) continue;
        return false;
      }
      // &TX:name: the count as evaluateLink computes it, unless ctl removed targets at run time.
      if (this.removedTargets.length > 0) return false;
      if ((this.policy.noMatchMemo.record(e === undefined ? '0' : '1')[word]! & bit) !== 0) continue;
      return false;
    }
    return true;
  }

  /**
   * Every entry of view `id` failed the link's value filter: remembered in their no-match records, as
   * evalEntry remembers filtered values, so that later requests know them without the filter.
   */
  private rememberFiltered(id: number, word: number, bit: number): void {
    const coll = this.quickCollection(id);
    const version = coll?.version;
    if (coll === null || coll === undefined || version === undefined) return;
    const list = this.viewEntries(id, coll, version);
    const memo = this.policy.noMatchMemo;
    for (let k = 0; k < list.length; k++) {
      const e = list[k]!;
      (e.memo ??= memo.record(e.value))[word]! |= bit;
    }
  }

  /** The collection of quick-reject view `id`, resolved once per transaction. */
  private quickCollection(id: number): CollectionView | null {
    let view = this.quickViews[id];
    if (view === undefined) view = this.quickViews[id] = this.policy.quickReject.views[id]!.spec.collection!(this);
    return view;
  }

  /** The entries quick-reject view `id` selects (its key, less its exclusions), for the collection's current version. */
  private viewEntries(id: number, coll: CollectionView, version: number): readonly VarEntry[] {
    if (this.viewVersions[id] === version) return this.viewLists[id]!;
    const v = this.policy.quickReject.views[id]!;
    let list = v.key === null ? coll.all() : coll.byKey(v.key);
    const ex = v.exclusions;
    if (ex.length > 0 && list.length > 0) list = list.filter((e) => !isExcluded(e.key, ex, NO_MATCHERS));
    this.viewVersions[id] = version;
    this.viewLists[id] = list;
    return list;
  }

  /**
   * Summary of what view `id` selects: null when it selects nothing, NO_SUMMARY when the collection
   * keeps no version (cannot be summarised).
   */
  private viewSummary(id: number): EntrySummary | null {
    const coll = this.quickCollection(id);
    if (coll === null) return null;
    const v = this.policy.quickReject.views[id]!;
    if (v.key === null && v.exclusions.length === 0) {
      // The whole collection: the summary evaluateLink uses too.
      const list = coll.all();
      if (list.length === 0) return null;
      return this.summaryOf(coll, list) ?? NO_SUMMARY;
    }
    const version = coll.version;
    if (version === undefined) return NO_SUMMARY;
    const list = this.viewEntries(id, coll, version);
    if (list.length === 0) return null;
    let sum = this.viewSums[id] ?? null;
    if (sum === null || sum.version !== version) {
      sum = this.viewSums[id] = summarizeEntries(list, version, this.policy.noMatchMemo, sum);
    }
    return sum;
  }

  /** Number of entries view `id` selects (as countTarget counts them without ctl), -1 when unknown. */
  private viewCount(id: number): number {
    const coll = this.quickCollection(id);
    if (coll === null) return 0;
    const version = coll.version;
    if (version === undefined) return -1;
    return this.viewEntries(id, coll, version).length;
  }

  private isRemoved(rule: Rule): boolean {
    if (this.removedRanges.length > 0) for (const r of this.removedRanges) if (inRange(rule.id, r)) return true;
    if (this.removedTags.length > 0) for (const re of this.removedTags) for (const t of rule.tags) if (re.test(t)) return true;
    if (this.removedMsgs.length > 0 && rule.msg?.constant != null) for (const re of this.removedMsgs) if (re.test(rule.msg.constant)) return true;
    return false;
  }

  /**
   * A rule whose whole input is TX (tx-replay.ts): its recorded effects are applied when the TX keys it
   * read hold the values they held when it was recorded; otherwise it is evaluated and recorded.
   */
  private evaluateReplayable(rule: Rule, phase: number, slot: ReplaySlot): void {
    if (slot.cooldown > 0) {
      slot.cooldown--;
      this.evaluateRule(rule, phase);
      return;
    }
    const tx = this.txVars;
    const records = slot.records;
    for (let k = 0; k < records.length; k++) {
      const r = records[k]!;
      if (!tx.holds(r) || !this.inputsHold(r)) continue;
      slot.promote(k);
      slot.misses = 0;
      this.matchedVars.clear();
      this.ruleVars.rule = rule;
      tx.applyWrites(r);
      if (r.matchedVarChanged) {
        this.matchedVar = r.matchedVar;
        this.matchedVarName = r.matchedVarName;
      }
      this.skipCount = r.skipCount;
      this.skipAfterTarget = r.skipAfter;
      const m = r.match;
      if (m !== null) {
        if (rule.severity !== null && rule.log && rule.severity < this.highestSeverity) this.highestSeverity = rule.severity;
        this.matches.push(m);
      }
      return;
    }
    // Not replayed: after a few misses in a row the slot rests (ReplaySlot.cooldown).
    if (records.length > 0) slot.missed();
    const keys: string[] = [];
    const values: (string | undefined)[] = [];
    const writes: (string | null)[] = [];
    const inputs: Target[] = [];
    const snapshots: (string | null | readonly string[])[] = [];
    const selections = { res: [] as RegExp[], selected: [] as string[][] };
    tx.startRecording(keys, values, writes, selections);
    this.recInputs = inputs;
    this.recSnapshots = snapshots;
    const matchesBefore = this.matches.length;
    const interruption = this.interruption;
    const allowScope = this.allowScope;
    const mv = this.matchedVar;
    const mvn = this.matchedVarName;
    try {
      this.evaluateRule(rule, phase);
    } finally {
      tx.stopRecording();
      this.recInputs = null;
      this.recSnapshots = null;
    }
    // A rule that can only pass interrupts nothing; the checks keep a surprise from being replayed.
    if (tx.unrecordable || this.interruption !== interruption || this.allowScope !== allowScope || this.matches.length > matchesBefore + 1) {
      // Nothing to replay (a large value, a whole-TX read, an interruption): counts as a miss. The
      // recordings kept are of other inputs, checked before any replay.
      slot.missed();
      return;
    }
    let match: RuleMatch | null = null;
    // A rule that can interrupt or allow is replayed only when it did not match.
    if (!slot.passOnly && this.matches.length > matchesBefore) {
      slot.missed();
      return;
    }
    if (this.matches.length > matchesBefore) {
      match = this.matches[matchesBefore]!;
      Object.freeze(match.matched);
      Object.freeze(match);
    }
    slot.add({
      inputs,
      snapshots,
      selectionPatterns: selections.res,
      selected: selections.selected,
      keys,
      keyIds: tx.keys.idsOf(keys),
      values,
      writes,
      writeIds: tx.keys.idsOf(writes, 2),
      match,
      skipCount: this.skipCount,
      skipAfter: this.skipAfterTarget,
      matchedVarChanged: this.matchedVar !== mv || this.matchedVarName !== mvn,
      matchedVar: this.matchedVar,
      matchedVarName: this.matchedVarName,
    });
  }

  /** The collection a target reads (an XML path with '@' reads the attributes). */
  private targetCollection(target: Target): CollectionView | null {
    const spec = target.spec;
    return spec.selectorIsPath && target.path !== null && target.path.includes('@') ? this.xmlAttributes : spec.collection!(this);
  }

  /**
   * What a request-data target selects now: a scalar's value (null: absent), or key, value … of its
   * entries. A value over MAX_RECORDED_VALUE spoils the recording (records must not pin bodies).
   */
  private snapshotOf(target: Target): string | null | readonly string[] {
    const spec = target.spec;
    if (spec.kind === 'scalar') {
      const v = spec.scalar!(this)?.value ?? null;
      if (v !== null && v.length > MAX_RECORDED_VALUE) this.txVars.unrecordable = true;
      return v;
    }
    const coll = this.targetCollection(target);
    if (coll === null) return null;
    const list = selectEntries(coll, target, NO_MATCHERS);
    const out: string[] = [];
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (e.key.length + e.value.length > MAX_RECORDED_VALUE) this.txVars.unrecordable = true;
      out.push(e.key, e.value);
    }
    return out;
  }

  /** True when every request-data target of the record selects what it selected when recorded. */
  private inputsHold(r: ReplayRecord): boolean {
    const inputs = r.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const target = inputs[i]!;
      const snap = r.snapshots[i]!;
      const spec = target.spec;
      if (spec.kind === 'scalar') {
        if ((spec.scalar!(this)?.value ?? null) !== snap) return false;
        continue;
      }
      const coll = this.targetCollection(target);
      if (coll === null) {
        if (snap !== null) return false;
        continue;
      }
      if (snap === null || typeof snap === 'string') return false;
      if (!selectionEquals(coll, target, snap)) return false;
    }
    return true;
  }

  private evaluateRule(rule: Rule, phase: number): void {
    this.matchedVars.clear();
    const matched = this.evaluateLink(rule, rule);
    if (matched === null) return;
    for (let link = rule.chain; link !== null; link = link.chain) {
      const m = this.evaluateLink(link, rule);
      if (m === null) return;
      for (const x of m) matched.push(x);
    }
    // The whole chain matched.
    this.ruleVars.rule = rule;
    const msg = rule.msg ? rule.msg.expand(this) : '';
    const logdata = rule.logdata ? rule.logdata.expand(this) : '';
    for (const f of rule.flow) f.run(this, rule);
    let interrupted = false;
    const d = rule.disruptive;
    if (d.kind !== 'pass') {
      if (d.kind === 'allow') {
        this.allowScope = d.allowScope ?? 'all';
      } else if (this.ruleEngine === 'On' && phase !== 5) {
        interrupted = true;
        this.interruption =
          d.kind === 'redirect'
            ? { action: 'redirect', status: [301, 302, 303, 307].includes(rule.status) ? rule.status : 302, ruleId: rule.id, location: d.location!.expand(this) }
            : { action: d.kind, status: rule.status || 403, ruleId: rule.id, location: null };
      }
    }
    if (rule.severity !== null && rule.log && rule.severity < this.highestSeverity) this.highestSeverity = rule.severity;
    this.matches.push({
      ruleId: rule.id,
      phase,
      msg,
      logdata,
      severity: rule.severity,
      tags: rule.tags,
      ver: rule.ver,
      matched,
      disruptive: d.kind,
      interrupted,
      log: rule.log,
    });
  }

  /** Evaluates one rule of a chain; returns the matched values or null. */
  private evaluateLink(rule: Rule, starter: Rule): MatchedValue[] | null {
    this.ruleVars.rule = rule.id ? rule : starter;
    const op = rule.operator;
    if (op === null) {
      for (const a of rule.actions) a.run(this, rule);
      return [{ name: '', value: '' }];
    }
    let out: MatchedValue[] | null = null;
    this.capturing = rule.capture;
    const slot = this.policy.noMatchMemo.slotOf(rule);
    const filter = rule.valueFilter;
    const targets = rule.targets;
    for (let ti = 0; ti < targets.length; ti++) {
      const target = targets[ti]!;
      const runtimeEx = this.removedTargets.length === 0 ? NO_MATCHERS : this.runtimeExclusions(starter, target);
      if (runtimeEx === false) continue;
      const spec = target.spec;
      if (this.recInputs !== null && spec.name !== 'TX') {
        // Recording a replayable rule (evaluateReplayable): what this target selects is an input.
        this.recInputs.push(target);
        this.recSnapshots!.push(this.snapshotOf(target));
      }
      if (target.count) {
        const n = String(this.countTarget(target, runtimeEx));
        // The operator sees the count itself (no transformation): remembered only for links without any.
        const record = slot >= 0 && rule.transforms.length === 0 ? this.policy.noMatchMemo.record(n) : null;
        const bit = 1 << (slot & 31);
        if (record !== null && (record[slot >>> 5]! & bit) !== 0) continue;
        if (this.evalOperator(rule, n)) {
          out ??= [];
          this.recordMatch(rule, out, spec.name, n);
        } else if (record !== null) {
          record[slot >>> 5]! |= bit;
        }
        continue;
      }
      if (spec.kind === 'scalar') {
        const e = spec.scalar!(this);
        if (e === null) continue;
        out = this.evalEntry(rule, spec, e, true, out, slot);
        continue;
      }
      const coll = this.targetCollection(target);
      if (coll === null) continue;
      // Entries are walked in place (no filtered copies): selector and exclusions are checked inline.
      const sel = target.selector;
      const list = selectorEntries(coll, sel);
      const keyRe = keyPattern(coll, sel);
      // The whole collection at once: when no entry can pass the value filter, or every entry is
      // known not to match this link, the target is skipped without visiting its entries.
      if (sel === null && list.length > 1 && (filter !== null || slot >= 0) && spec.cacheable) {
        const sum = this.summaryOf(coll, list);
        if (sum !== null) {
          if (filter !== null && !meetsByteSets(sum.bytes, filter)) continue;
          if (slot >= 0 && (sum.known[slot >>> 5]! & (1 << (slot & 31))) !== 0) continue;
        }
      }
      const excluding = target.exclusions.length > 0 || runtimeEx.length > 0;
      const bare = spec.selectorIsPath === true;
      const n = list.length;
      // Entries already known not to match this link are passed over here, without a call.
      const memoWord = slot >= 0 && spec.cacheable ? slot >>> 5 : -1;
      const memoBit = 1 << (slot & 31);
      for (let i = 0; i < n; i++) {
        const e = list[i]!;
        if (memoWord >= 0) {
          const r = e.memo;
          if (r !== null && (r[memoWord]! & memoBit) !== 0) continue;
        }
        if (keyRe !== null && !keyRe.test(e.key)) continue;
        if (excluding && isExcluded(e.key, target.exclusions, runtimeEx)) continue;
        out = this.evalEntry(rule, spec, e, bare, out, slot);
      }
    }
    this.capturing = false;
    return out;
  }

  /** The no-match record of an entry whose value may change (TX …), for its current value. */
  private mutableRecord(e: VarEntry): Uint32Array {
    const v = e.value;
    if (e.memoOf !== v || e.memo === null) {
      const memo = this.policy.noMatchMemo;
      e.memo = e.txId >= 0 ? memo.recordOfKey(e.txId, v) : memo.record(v);
      e.memoOf = v;
    }
    return e.memo;
  }

  /** The collection's entry summary for its current version, or null for collections without one. */
  private summaryOf(coll: CollectionView, list: readonly VarEntry[]): EntrySummary | null {
    const v = coll.version;
    if (v === undefined) return null;
    let sum = coll.summary ?? null;
    if (sum === null || sum.version !== v) {
      sum = coll.summary = summarizeEntries(list, v, this.policy.noMatchMemo, sum);
    }
    return sum;
  }

  /**
   * `bare`: the matched variable's name is the variable alone (scalars, XML), else "NAME:key".
   * `slot`: the link's bit in the policy's no-match memo (no-match-memo.ts), -1 when not remembered.
   */
  private evalEntry(rule: Rule, spec: VariableSpec, e: VarEntry, bare: boolean, out: MatchedValue[] | null, slot: number): MatchedValue[] | null {
    // A value without the bytes the operator needs (through the transformations) cannot match: skip it
    // before transforming it (value-filter.ts).
    // A value this link is known not to match (an earlier request had the same value): skip it too.
    // Filtered values are remembered as well, so whole-collection summaries see them as known.
    let record: Uint32Array | null = null;
    let bit = 0;
    if (slot >= 0 && (spec.cacheable || spec.kind === 'collection')) {
      record = spec.cacheable ? (e.memo ??= this.policy.noMatchMemo.record(e.value)) : this.mutableRecord(e);
      bit = 1 << (slot & 31);
      if ((record[slot >>> 5]! & bit) !== 0) return out;
    }
    const filter = rule.valueFilter;
    if (filter !== null && !meetsByteSets(entryBytes(e), filter)) {
      if (record !== null) record[slot >>> 5]! |= bit;
      return out;
    }
    if (rule.multiMatch && rule.transforms.length > 0) {
      const seen: string[] = [e.value];
      this.transform(rule, e, spec.cacheable, seen);
      let matched = false;
      for (const s of seen) {
        if (this.evalOperator(rule, s)) {
          matched = true;
          out ??= [];
          this.recordMatch(rule, out, bare ? spec.name : `${spec.name}:${e.key}`, s);
        }
      }
      if (!matched && record !== null) record[slot >>> 5]! |= bit;
      return out;
    }
    const value = this.transform(rule, e, spec.cacheable);
    if (this.evalOperator(rule, value)) {
      out ??= [];
      this.recordMatch(rule, out, bare ? spec.name : `${spec.name}:${e.key}`, value);
    } else if (record !== null) {
      record[slot >>> 5]! |= bit;
    }
    return out;
  }

  /**
   * Transformation with per-transaction caching keyed by (entry, chain prefix id). A transformation
   * whose trigger bytes the current value does not hold is the identity and is not called (the raw
   * value's bitmap is the entry's; after a transformation changed the value, its bitmap is recomputed
   * when a later transformation has triggers). With `seen`, every distinct intermediate value is
   * appended (multiMatch).
   */
  private transform(rule: Rule, e: VarEntry, cacheable: boolean, seen: string[] | null = null): string {
    const ts = rule.transforms;
    const n = ts.length;
    let value = e.value;
    if (n === 0) return value;
    if (!cacheable) {
      for (let i = 0; i < n; i++) {
        const nv = ts[i]!.transform(value);
        if (seen !== null && nv !== value) seen.push(nv);
        value = nv;
      }
      return value;
    }
    const ids = rule.transformIds;
    let cache = e.cache;
    let start = 0;
    if (cache === null) {
      cache = e.cache = new Map();
    } else if (seen === null) {
      for (let i = n - 1; i >= 0; i--) {
        const hit = cache.get(ids[i]!);
        if (hit !== undefined) {
          if (i === n - 1) return hit;
          value = hit;
          start = i + 1;
          break;
        }
      }
    }
    // The bitmap of `value`, or null when it must be recomputed.
    let bytes: Uint32Array | null = start === 0 ? entryBytes(e) : null;
    for (let i = start; i < n; i++) {
      const t = ts[i]!;
      const id = ids[i]!;
      const trig = t.triggers;
      if (trig !== undefined) {
        bytes ??= presentBytes(value, this.scratchBytes);
        if (!intersects(bytes, trig)) {
          cache.set(id, value);
          continue;
        }
      }
      const known = seen !== null ? cache.get(id) : undefined;
      const nv = known ?? t.transform(value);
      if (nv !== value) {
        value = nv;
        bytes = null;
        if (seen !== null) seen.push(nv);
      }
      cache.set(id, value);
    }
    return value;
  }

  private evalOperator(rule: Rule, value: string): boolean {
    const op = rule.operator!;
    if (this.capturing) {
      this.pendingCaptures.length = 0;
      this.capturesSet = false;
    }
    let m: boolean;
    try {
      m = op.op.evaluate(this, value);
    } catch {
      // Operators must not throw; if one does, the value does not match (and the request is not lost).
      m = false;
    }
    if (op.negated) m = !m;
    if (m && this.capturing && this.capturesSet) {
      // TX.0 … TX.9 updated in place (as v2's apr_table_setn), the ones not captured this time removed.
      const caps = this.pendingCaptures;
      for (let i = 0; i < 10; i++) {
        const v = i < caps.length ? caps[i] : undefined;
        // Numbered 0 … 9 in every policy's TX key table (tx-keys.ts).
        if (v !== undefined) this.txVars.setById(CAPTURE_KEYS[i]!, i, v);
        else this.txVars.deleteById(CAPTURE_KEYS[i]!, i);
      }
    }
    return m;
  }

  setCapture(index: number, value: string): void {
    if (index < 0 || index > 9) return;
    this.pendingCaptures[index] = value;
    this.capturesSet = true;
  }

  private recordMatch(rule: Rule, out: MatchedValue[], name: string, value: string): void {
    this.matchedVar = value;
    this.matchedVarName = name;
    this.matchedVars.add(name, value);
    out.push({ name, value });
    for (const a of rule.actions) a.run(this, rule);
  }

  private countTarget(target: Target, runtimeEx: readonly KeyMatcher[]): number {
    const spec = target.spec;
    if (spec.kind === 'scalar') return spec.scalar!(this) === null ? 0 : 1;
    const coll = this.targetCollection(target);
    if (coll === null) return 0;
    return selectEntries(coll, target, runtimeEx).length;
  }

  /** ctl:ruleRemoveTarget* for this rule and target: false = drop the target, else extra exclusions. */
  private runtimeExclusions(rule: Rule, target: Target): readonly KeyMatcher[] | false {
    if (this.removedTargets.length === 0) return NO_MATCHERS;
    let extra: KeyMatcher[] | null = null;
    for (const rt of this.removedTargets) {
      const applies =
        (rt.range !== null && inRange(rule.id, rt.range)) ||
        (rt.tag !== null && rule.tags.some((t) => rt.tag!.test(t))) ||
        (rt.msg !== null && rule.msg?.constant != null && rt.msg.test(rule.msg.constant));
      if (!applies) continue;
      for (const t of rt.targets) {
        if (t.spec !== target.spec) continue;
        if (t.selector === null) return false;
        (extra ??= []).push(t.selector);
      }
    }
    return extra ?? NO_MATCHERS;
  }

  // =================================================================================================
  // Services for actions and macros
  // =================================================================================================

  macroValue(spec: VariableSpec, key: string | null): string {
    if (spec.kind === 'scalar') return spec.scalar!(this)?.value ?? '';
    const coll = spec.collection!(this);
    if (coll === null || key === null) return '';
    return coll.byKey(key)[0]?.value ?? '';
  }

  private writable(collection: string): MapCollection | null {
    if (collection === 'TX') return this.txVars;
    return this.persistent.get(collection) ?? null;
  }

  setVar(collection: string, key: string, value: string): void {
    const c = this.writable(collection);
    if (!c) return;
    c.set(key, value);
    if (c !== this.txVars) (c as PersistentRecord).lastUpdate = this.store.currentTime();
  }

  getVar(collection: string, key: string): string | undefined {
    return this.writable(collection)?.get(key.toLowerCase());
  }

  deleteVar(collection: string, key: string): void {
    this.writable(collection)?.delete(key);
  }

  expireVar(collection: string, key: string, seconds: number): void {
    const rec = this.persistent.get(collection);
    if (!rec) return;
    rec.expiries.set(key.toLowerCase(), this.store.currentTime() + seconds * 1000);
  }

  deprecateVar(collection: string, key: string, amount: number, periodSeconds: number): void {
    const rec = this.persistent.get(collection);
    if (!rec || periodSeconds <= 0) return;
    const current = parseInt(rec.get(key.toLowerCase()) ?? '', 10);
    if (!Number.isFinite(current)) return;
    const elapsed = (this.store.currentTime() - rec.lastUpdate) / 1000;
    const steps = Math.floor(elapsed / periodSeconds);
    if (steps > 0) rec.set(key, String(Math.max(0, current - steps * amount)));
  }

  initCollection(collection: string, key: string): void {
    this.persistent.set(collection, this.store.open(collection, key, this.policy.settings.collectionTimeout));
  }

  requestSkip(n: number): void {
    this.skipCount = n;
  }

  requestSkipAfter(target: string): void {
    this.skipAfterTarget = target;
  }

  setRuleEngine(mode: RuleEngineMode): void {
    // Simulation must never start blocking because a rule said ctl:ruleEngine=On.
    if (mode === 'On' && this.ruleEngine === 'DetectionOnly' && this.policy.settings.ruleEngine === 'On') return;
    this.ruleEngine = mode;
  }

  setBodyProcessor(p: BodyProcessorName): void {
    this.bodyProcessor = p;
  }

  removeRulesById(r: IdRange): void {
    this.removedRanges.push(r);
  }

  removeRulesByTag(re: RegExp): void {
    this.removedTags.push(re);
  }

  removeRulesByMsg(re: RegExp): void {
    this.removedMsgs.push(re);
  }

  removeTargets(sel: { range: IdRange | null; tag: RegExp | null; msg: RegExp | null }, targets: readonly Target[]): void {
    this.removedTargets.push({ ...sel, targets });
  }

  /** Numeric TX variable (anomaly scores for alerts). */
  txNumber(name: string): number {
    const n = parseInt(this.txVars.get(name) ?? '', 10);
    return Number.isFinite(n) ? n : 0;
  }
}

const NO_MATCHERS: readonly KeyMatcher[] = Object.freeze([]);

/** TX keys of captures (TX.0 … TX.9), not rebuilt per match. */

/** meetsByteSets for byte sets stored flat, 8 words each, in sets[start, end). */
function meetsFlatByteSets(present: Uint32Array, sets: Uint32Array, start: number, end: number): boolean {
  for (let k = start; k < end; k += 8) {
    if (
      ((present[0]! & sets[k]!) | (present[1]! & sets[k + 1]!) | (present[2]! & sets[k + 2]!) | (present[3]! & sets[k + 3]!) |
        (present[4]! & sets[k + 4]!) | (present[5]! & sets[k + 5]!) | (present[6]! & sets[k + 6]!) | (present[7]! & sets[k + 7]!)) === 0
    ) return false;
  }
  return true;
}

/** True when the two byte sets share a byte. */
function intersects(a: Uint32Array, b: Uint32Array): boolean {
  return (
    ((a[0]! & b[0]!) | (a[1]! & b[1]!) | (a[2]! & b[2]!) | (a[3]! & b[3]!) | (a[4]! & b[4]!) | (a[5]! & b[5]!) | (a[6]! & b[6]!) | (a[7]! & b[7]!)) !== 0
  );
}

function matches(m: KeyMatcher, key: string): boolean {
  return m.regex !== null ? m.regex.test(key) : m.key === key.toLowerCase();
}

function isExcluded(key: string, static_: readonly KeyMatcher[], runtime: readonly KeyMatcher[]): boolean {
  for (let i = 0; i < static_.length; i++) if (matches(static_[i]!, key)) return true;
  for (let i = 0; i < runtime.length; i++) if (matches(runtime[i]!, key)) return true;
  return false;
}

/**
 * True when what `target` selects from `coll` (as selectEntries, without run-time exclusions) is, in
 * order, the key, value … pairs of `snap`. Walks the entries in place: no filtered copy per check.
 */
function selectionEquals(coll: CollectionView, target: Target, snap: readonly string[]): boolean {
  const ex = target.exclusions;
  const list = selectorEntries(coll, target.selector);
  const re = keyPattern(coll, target.selector);
  let k = 0;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (re !== null && !re.test(e.key)) continue;
    if (ex.length > 0 && isExcluded(e.key, ex, NO_MATCHERS)) continue;
    if (k >= snap.length || e.key !== snap[k] || e.value !== snap[k + 1]) return false;
    k += 2;
  }
  return k === snap.length;
}

/** The entries a selector names: all, a key's, or a MapCollection's pattern selection (see keyPattern). */
function selectorEntries(coll: CollectionView, sel: KeyMatcher | null): readonly VarEntry[] {
  if (sel === null) return coll.all();
  if (sel.regex === null) return coll.byKey(sel.key!);
  if (coll instanceof MapCollection && !sel.regex.global && !sel.regex.sticky) return coll.select(sel.regex);
  return coll.all();
}

/** The key pattern still to test on selectorEntries' entries, or null when they are selected already. */
function keyPattern(coll: CollectionView, sel: KeyMatcher | null): RegExp | null {
  if (sel === null || sel.regex === null) return null;
  return coll instanceof MapCollection && !sel.regex.global && !sel.regex.sticky ? null : sel.regex;
}

function selectEntries(coll: CollectionView, target: Target, runtimeEx: readonly KeyMatcher[]): readonly VarEntry[] {
  const list = selectorEntries(coll, target.selector);
  const re = keyPattern(coll, target.selector);
  if (re === null && target.exclusions.length === 0 && runtimeEx.length === 0) return list;
  return list.filter((e) => (re === null || re.test(e.key)) && !isExcluded(e.key, target.exclusions, runtimeEx));
}

/** application/x-www-form-urlencoded parsing as ModSecurity v2 does for the query string. */
export function parseUrlEncoded(text: string, separator: string, into: ListCollection, maxArgs: number): void {
  if (text === '') return;
  for (const part of text.split(separator)) {
    if (part === '') continue;
    if (into.size >= maxArgs) break;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    into.add(urlDecodeLenient(name), urlDecodeLenient(value));
  }
}

/** %XX and '+' decoding on byte strings; invalid escapes are kept literally. */
export function urlDecodeLenient(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 43) out += ' ';
    else if (c === 37 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}

/** %XX decoding only ('+' stays), invalid escapes kept literally. */
export function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Cookie header parsing (version 0: `a=b; c=d`, values not decoded). */
export function parseCookies(header: string, into: ListCollection, _format: 0 | 1): void {
  for (const raw of header.split(';')) {
    const part = raw.replace(/^[ \t]+/, '');
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) into.add(part.trimEnd(), '');
    else into.add(part.slice(0, eq).trimEnd(), part.slice(eq + 1));
  }
}
