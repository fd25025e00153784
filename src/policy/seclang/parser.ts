/**
 * SecLang loader. Text → directives (tokenizer.ts) → rules and settings held by a PolicyBuilder, then
 * `build()` freezes them into a CompiledPolicy (rules per phase, skipAfter targets resolved).
 *
 * Every problem is collected with file, line and rule id; `build()` throws one PolicyLoadError listing
 * them all. A builder can be forked: the CRS part of a policy is parsed once and each server group
 * continues from a fork with its own SecLang (rules are immutable, so forks share them).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PolicyLoadError, type LoadProblem } from '../errors.js';
import type { Rule } from '../rule.js';
import type { LoadContext } from '../types.js';
import { tokenize, type RawDirective } from './tokenizer.js';
import { getDirective } from './directives.js';
import {
  BUILTIN_DEFAULTS,
  compileRuleDraft,
  finishRule,
  type PhaseDefaults,
  type RuleCompileEnv,
  type RuleSourceText,
} from './rule-parser.js';
import { cloneSettings, defaultSettings, type EngineSettings } from './settings.js';
import { NoMatchMemo } from '../no-match-memo.js';
import { ReplaySlot, replayable } from '../tx-replay.js';
import { buildQuickReject, type QuickRejectIndex } from '../quick-reject.js';
import { collectTxKeys, type TxKeys } from '../tx-keys.js';
import { batchRuleRegexes } from '../regex-batches.js';
import { batchPhraseSets } from '../phrase-batches.js';

export interface CompiledPolicy {
  readonly settings: Readonly<EngineSettings>;
  /** phases[1..5]: rules (chain starters and markers) in evaluation order. */
  readonly phases: readonly (readonly Rule[])[];
  /**
   * Per phase, aligned with `phases`: the index evaluation goes on at after the rule's own skipAfter
   * (its last one, as the last one run wins; the phase's length when the target — a marker or a rule id
   * — is missing or not after the rule, as ModSecurity). Only the skipAfter action of the rule just
   * evaluated requests a skip, so the target is resolved here instead of looked up per request.
   */
  readonly skipAfter: readonly Int32Array[];
  readonly ruleCount: number;
  /** "No match" answers of pure rule links per raw value, shared by this policy's transactions. */
  readonly noMatchMemo: NoMatchMemo;
  /** TX names the rules name literally, numbered (tx-keys.ts). */
  readonly txKeys: TxKeys;
  /** Flat per-phase tables for rejecting rules without touching them (quick-reject.ts). */
  readonly quickReject: QuickRejectIndex;
  /** Per phase, aligned with `phases`: the replay slot of each rule whose whole input is TX (tx-replay.ts), else null. */
  readonly replay: readonly (readonly (ReplaySlot | null)[])[];
}

const MAX_INCLUDE_DEPTH = 32;

export class PolicyBuilder {
  rules: Rule[] = [];
  readonly defaults = new Map<number, PhaseDefaults>();
  settings: EngineSettings = defaultSettings();
  readonly problems: LoadProblem[] = [];
  private pendingChain: { src: RuleSourceText; id: number | null }[] | null = null;
  /** Included files on the current stack (cycle detection). */
  private includeStack: string[] = [];
  /** Directory for relative paths of the text being parsed. */
  baseDir = process.cwd();

  /** A copy that continues from this builder's state (rules are shared, being immutable). */
  fork(): PolicyBuilder {
    const b = new PolicyBuilder();
    b.rules = [...this.rules];
    for (const [k, v] of this.defaults) b.defaults.set(k, v);
    b.settings = cloneSettings(this.settings);
    b.problems.push(...this.problems);
    b.baseDir = this.baseDir;
    return b;
  }

  loadFile(path: string): void {
    const abs = resolve(this.baseDir, path);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (err) {
      this.problems.push({ file: abs, line: 0, ruleId: null, message: `cannot read: ${(err as Error).message}` });
      return;
    }
    this.loadText(text, abs, dirname(abs));
  }

  loadText(text: string, file: string, baseDir: string): void {
    if (this.includeStack.includes(file)) {
      this.problems.push({ file, line: 0, ruleId: null, message: 'Include cycle' });
      return;
    }
    if (this.includeStack.length >= MAX_INCLUDE_DEPTH) {
      this.problems.push({ file, line: 0, ruleId: null, message: `Include nested deeper than ${MAX_INCLUDE_DEPTH}` });
      return;
    }
    const tokProblems: { file: string; line: number; message: string }[] = [];
    const directives = tokenize(text, file, tokProblems);
    for (const p of tokProblems) this.problems.push({ ...p, ruleId: null });
    const savedBase = this.baseDir;
    this.baseDir = baseDir;
    this.includeStack.push(file);
    try {
      for (const d of directives) this.apply(d);
      this.flushDanglingChain();
    } finally {
      this.includeStack.pop();
      this.baseDir = savedBase;
    }
  }

  private apply(d: RawDirective): void {
    const handler = getDirective(d.name);
    if (d.name.toLowerCase() !== 'secrule') this.flushDanglingChain();
    if (!handler) {
      this.problems.push({ file: d.file, line: d.line, ruleId: null, message: `unknown directive "${d.name}"` });
      return;
    }
    try {
      handler(this, d);
    } catch (err) {
      this.problems.push({ file: d.file, line: d.line, ruleId: idFromArgs(d.args), message: (err as Error).message });
    }
  }

  loadContext(): LoadContext {
    const baseDir = this.baseDir;
    return {
      baseDir,
      readFile: (p: string) => {
        try {
          return readFileSync(resolve(baseDir, p), 'utf8');
        } catch (err) {
          throw new Error(`cannot read "${p}": ${(err as Error).message}`);
        }
      },
    };
  }

  env(): RuleCompileEnv {
    return { load: this.loadContext(), defaultsFor: (phase) => this.defaults.get(phase) ?? BUILTIN_DEFAULTS };
  }

  /** SecRule / SecAction: accumulates chains, compiles complete rules. */
  addRuleSource(src: RuleSourceText, chains: boolean): void {
    const id = idFromActions(src.actions);
    if (this.pendingChain) {
      this.pendingChain.push({ src, id });
      if (!chains) this.completeChain();
      return;
    }
    if (chains) {
      this.pendingChain = [{ src, id }];
      return;
    }
    this.pendingChain = [{ src, id }];
    this.completeChain();
  }

  private flushDanglingChain(): void {
    if (!this.pendingChain) return;
    const first = this.pendingChain[0]!;
    this.problems.push({ file: first.src.file, line: first.src.line, ruleId: first.id, message: 'rule has "chain" but no rule follows it' });
    this.pendingChain = null;
  }

  private completeChain(): void {
    const links = this.pendingChain!;
    this.pendingChain = null;
    const starterId = links[0]!.id;
    const env = this.env();
    const compiled: ReturnType<typeof compileRuleDraft>[] = [];
    let failed = false;
    let phase: number | null = null;
    for (const [i, link] of links.entries()) {
      try {
        const c = compileRuleDraft(link.src, env, i === 0 ? null : phase);
        if (i === 0) phase = c.draft.phase;
        if (i < links.length - 1 && !c.draft.chain) throw new Error('internal: chain link without chain');
        compiled.push(c);
      } catch (err) {
        failed = true;
        this.problems.push({ file: link.src.file, line: link.src.line, ruleId: starterId, message: (err as Error).message });
      }
    }
    if (failed) return;
    const starter = compiled[0]!.draft;
    if (starter.id === 0) {
      this.problems.push({ file: links[0]!.src.file, line: links[0]!.src.line, ruleId: null, message: 'rule has no id action' });
      return;
    }
    if (this.rules.some((r) => r.id === starter.id)) {
      this.problems.push({ file: links[0]!.src.file, line: links[0]!.src.line, ruleId: starter.id, message: `duplicate rule id ${starter.id}` });
      return;
    }
    let next: Rule | null = null;
    for (let i = compiled.length - 1; i >= 0; i--) {
      next = finishRule(links[i]!.src, compiled[i]!, next, i === 0 ? 0 : starter.id);
    }
    this.rules.push(next!);
  }

  /** Replaces rules in place (SecRuleUpdate*): `fn` returns the new rule or the same one. */
  replaceRules(fn: (r: Rule) => Rule): void {
    this.rules = this.rules.map(fn);
  }

  build(): CompiledPolicy {
    this.flushDanglingChain();
    if (this.problems.length > 0) throw new PolicyLoadError(this.problems);
    const phases: Rule[][] = [[], [], [], [], [], []];
    for (const r of this.rules) {
      if (r.marker !== null) for (let p = 1; p <= 5; p++) phases[p]!.push(r);
      else phases[r.phase]!.push(r);
    }
    const skipTargets = phases.map((list) => {
      const m = new Map<string, number>();
      list.forEach((r, i) => {
        if (r.marker !== null) m.set(r.marker, i);
        else m.set(String(r.id), i);
      });
      return m;
    });
    const skipAfter = phases.map((list, p) => {
      const next = new Int32Array(list.length);
      list.forEach((r, i) => {
        let name: string | null = null;
        for (const f of r.flow) if (f.skipAfter !== undefined) name = f.skipAfter;
        const idx = name === null ? undefined : skipTargets[p]!.get(name);
        next[i] = idx === undefined || idx <= i ? list.length : idx + 1;
      });
      return next;
    });
    const noMatchMemo = new NoMatchMemo(this.rules);
    const txKeys = collectTxKeys(this.rules);
    noMatchMemo.sizeKeyCache(txKeys.size);
    // RE2.Set batches for @rx links that share a transformation chain (large values: one scan for all).
    batchRuleRegexes(this.rules);
    // Phrase batches for @pm/@pmFromFile: one scan of a large value for every phrase set.
    batchPhraseSets(this.rules);
    return Object.freeze({
      settings: Object.freeze(cloneSettings(this.settings)),
      phases: Object.freeze(phases.map((p) => Object.freeze(p))),
      skipAfter: Object.freeze(skipAfter),
      ruleCount: this.rules.filter((r) => r.marker === null).length,
      noMatchMemo,
      txKeys: txKeys.seal(),
      quickReject: buildQuickReject(phases, (link) => noMatchMemo.slotOf(link), txKeys),
      replay: Object.freeze(phases.map((list) => Object.freeze(list.map((r) => (replayable(r) ? new ReplaySlot(r) : null))))),
    });
  }
}

function idFromActions(actions: string): number | null {
  const m = /(?:^|,)\s*id\s*:\s*'?(\d+)/.exec(actions);
  return m ? Number(m[1]) : null;
}

function idFromArgs(args: readonly string[]): number | null {
  for (let i = args.length - 1; i >= 0; i--) {
    const id = idFromActions(args[i]!);
    if (id !== null) return id;
  }
  return null;
}

/** Parses SecLang text and builds it. Convenience for tests and small policies. */
export function compileSecLang(text: string, file = '<inline>', baseDir = process.cwd()): CompiledPolicy {
  const b = new PolicyBuilder();
  b.loadText(text, file, baseDir);
  return b.build();
}
