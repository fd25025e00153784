/**
 * Contracts inside the policy engine (src/policy). The engine does no network I/O: nothing under
 * src/policy imports node:net, node:http, node:tls or node:dgram. File reads happen only at load time,
 * through the `LoadContext` given to factories.
 *
 * Values are BYTE STRINGS: JavaScript strings whose code units are all 0..255, one per byte (latin1).
 * ModSecurity v2 works on bytes and the CRS regexes are written for byte matching, so the pipeline
 * converts request data with `buffer.toString('latin1')` and every transformation and operator
 * consumes and produces byte strings. A transformation that decodes to Unicode (e.g. urlDecodeUni,
 * utf8toUnicode, jsDecode \uXXXX) emits the bytes ModSecurity emits, never characters > 0xFF.
 */

import type { PhraseSet } from './operators/phrase-set.js';
import type { PhraseBatch } from './operators/phrase-batch.js';
import type { CompiledRegex } from './regex/index.js';

/** Load-time services for factories (file access for @pmFromFile / @ipMatchFromFile, relative paths). */
export interface LoadContext {
  /** Directory of the file containing the rule; relative data-file paths resolve against it. */
  readonly baseDir: string;
  /** Reads a file as UTF-8 text; throws a LoadError-compatible Error with a clear message if unreadable. */
  readFile(path: string): string;
}

/** A compiled macro string such as "%{tx.allowed_methods}" or a plain constant. */
export interface Macro {
  /** The value when the text holds no macro; null when it must be expanded per transaction. */
  readonly constant: string | null;
  /** Expands the macro against a transaction (opaque to operators). */
  expand(tx: unknown): string;
  /** Names of the variables the macro reads (upper case; none for a constant), when known. */
  readonly refs?: readonly string[];
}

/** What an operator may touch of the running transaction. */
export interface OperatorTx {
  /** Opaque transaction, pass to Macro.expand. */
  readonly tx: unknown;
  /** True when the rule has the `capture` action: operators that capture call setCapture. */
  readonly capturing: boolean;
  /** Sets TX.<index> (0..9) for `capture`. */
  setCapture(index: number, value: string): void;
}

export interface Operator {
  /** Returns true on match. Must not throw on any input (bytes 0..255, empty, huge). */
  evaluate(otx: OperatorTx, value: string): boolean;
  /**
   * Optional prefilter: byte sets (8 words each, bit b = byte b) such that every value this operator
   * matches holds at least one byte of each set. The engine skips values that cannot match without
   * transforming them (see src/policy/value-filter.ts). Absent or null: no such knowledge.
   */
  readonly requiredBytes?: readonly Uint32Array[] | null;
  /** @rx with a constant pattern: its compiled regex, which the engine may batch with others (regex-batches.ts). */
  readonly regex?: CompiledRegex;
  /** @pm / @pmFromFile: the phrase set, which the engine may batch with others (phrase-batches.ts). */
  readonly phrases?: PhraseSet;
  joinPhraseBatch?(batch: PhraseBatch, index: number): void;
}

export interface OperatorSpec {
  /** Name without '@', as written in SecLang, e.g. "rx", "pmFromFile". Lookup is case-insensitive. */
  readonly name: string;
  /** Other names, e.g. "pmf" for pmFromFile. */
  readonly aliases?: readonly string[];
  /**
   * Compiles the operator's parameter once at load time. `param` is the raw text after the operator
   * name (trimmed of one leading space); `macro` is its compiled form for operators that accept macros.
   * Throws an Error with a clear message on a bad parameter (it becomes a load error naming file, line
   * and rule id).
   */
  create(param: string, macro: Macro, ctx: LoadContext): Operator;
}

export interface TransformationSpec {
  /** Name as written after `t:`, e.g. "urlDecodeUni". Lookup is case-insensitive. */
  readonly name: string;
  /** Byte string in, byte string out. Must not throw; invalid encodings are handled as ModSecurity v2 does. */
  transform(input: string): string;
  /**
   * Optional: given a byte set S (8 words), the set of input bytes P such that whenever the output holds a
   * byte of S, the input holds a byte of P. Returns a new array (never mutates S), or null when any input
   * could produce such an output (decoders like base64). Absent: treated as null. Lets the engine reject a
   * value before transforming it (src/policy/value-filter.ts); test/policy/transformations checks it.
   */
  preimage?(outputBytes: Uint32Array): Uint32Array | null;
  /**
   * Optional: a byte set (8 words) such that an input holding none of these bytes comes out unchanged.
   * The engine then skips the call, checking the value's byte bitmap it already has. Absent: the
   * transformation always runs. test/policy/transformations checks the claim.
   */
  readonly triggers?: Uint32Array;
}
