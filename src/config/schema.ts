/**
 * A small declarative schema mechanism over the YAML syntax tree. Each configuration object is
 * described once (keys, decoders, defaults, an optional `derive` step) in gateway-schema.ts; this
 * file walks the tree with those descriptions, applies defaults and reports every problem with the
 * position of the node it concerns. Decoding never stops at the first error: a bad value is
 * reported and left out, and the walk continues with its siblings.
 */
import { isAlias, isMap, isScalar, isSeq, YAMLMap, type Document, type LineCounter, type Node as YamlNode } from 'yaml';
import type { ConfigError, ConfigErrorCode } from './config-error.js';
import type { SourcePos } from './types.js';

/** Returned by a decoder whose value was reported as bad (the caller drops it). */
export const INVALID: unique symbol = Symbol('invalid');
export type Decoded<T> = T | typeof INVALID;

/** Where a decoded object came from: its mapping node and key path, for later (cross-object) errors. */
export interface Origin {
  readonly node: YamlNode;
  readonly path: string;
}

export class DecodeContext {
  readonly errors: ConfigError[] = [];
  /** Decoded object → the node it came from. Cross-checks use it to point at a key of that object. */
  readonly origins = new WeakMap<object, Origin>();
  /** Objects with at least one bad key: present (so names still resolve) but not derived. */
  readonly incomplete = new WeakSet<object>();

  constructor(
    /** The file name as the caller gave it (used in messages). */
    readonly file: string,
    /** Absolute path of the file (used in SourcePos and to resolve relative paths). */
    readonly absFile: string,
    /** Directory relative paths in the file are resolved against. */
    readonly dir: string,
    readonly doc: Document.Parsed,
    readonly lines: LineCounter,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  offsetPos(offset: number): { line: number; col: number } {
    return this.lines.linePos(offset);
  }

  nodePos(node: YamlNode | null | undefined): { line: number; col: number } {
    const offset = node?.range?.[0] ?? 0;
    return this.offsetPos(offset);
  }

  sourcePos(node: YamlNode): SourcePos {
    const { line, col } = this.nodePos(node);
    return { file: this.absFile, line, col };
  }

  report(node: YamlNode | null | undefined, path: string, code: ConfigErrorCode, message: string): typeof INVALID {
    const { line, col } = this.nodePos(node);
    this.errors.push({ file: this.file, line, col, path, message, code });
    return INVALID;
  }

  /** Reports against key `key` of a decoded object (its value's position, or the object's when absent). */
  reportAt(obj: object, key: string, code: ConfigErrorCode, message: string): void {
    const origin = this.origins.get(obj);
    const path = origin ? joinPath(origin.path, key) : key;
    this.report(origin ? valueNodeOf(origin.node, key) ?? origin.node : null, path, code, message);
  }

  /** Reports against key `key` of a mapping node that has not become an object yet (inside `derive`). */
  reportKey(map: YamlNode, mapPath: string, key: string, code: ConfigErrorCode, message: string): typeof INVALID {
    return this.report(valueNodeOf(map, key) ?? map, joinPath(mapPath, key), code, message);
  }

  /** Position of key `key` of a decoded object (for "first defined at line N" hints). */
  lineOf(obj: object, key?: string): number {
    const origin = this.origins.get(obj);
    if (!origin) return 0;
    const node = key === undefined ? origin.node : valueNodeOf(origin.node, key) ?? origin.node;
    return this.nodePos(node).line;
  }

  pathOf(obj: object): string {
    return this.origins.get(obj)?.path ?? '';
  }

  /** Follows YAML aliases (`*anchor`) to the node they name. */
  deref(node: YamlNode | null | undefined): YamlNode | null {
    let n = node ?? null;
    for (let hops = 0; n && isAlias(n) && hops < 32; hops++) n = (n.resolve(this.doc) as YamlNode | undefined) ?? null;
    return n && isAlias(n) ? null : n;
  }
}

export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** The last segment of a path, as used at the start of messages: `port`, `ports[1]`. */
export function nameOf(path: string): string {
  if (path === '') return 'the document';
  const dot = path.lastIndexOf('.');
  return dot < 0 ? path : path.slice(dot + 1);
}

/** The value node of `key` in a mapping; `key` may name a list item, as in `servers[2]`. */
function valueNodeOf(map: YamlNode, key: string): YamlNode | null {
  if (!isMap(map)) return null;
  const item = /^(.+)\[(\d+)\]$/.exec(key);
  const name = item ? item[1] : key;
  for (const pair of map.items) {
    if (!isScalar(pair.key) || pair.key.value !== name) continue;
    const value = (pair.value as YamlNode | null) ?? (pair.key as YamlNode);
    if (item && isSeq(value)) return (value.items[Number(item[2])] as YamlNode | undefined) ?? value;
    return value;
  }
  return null;
}

/** A short description of what a node holds, for "(got …)" in messages. */
export function describeNode(node: YamlNode | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    return typeof v;
  }
  return 'an unsupported value';
}

export function isNullNode(node: YamlNode | null): boolean {
  return node === null || (isScalar(node) && (node.value === null || node.value === undefined));
}

/**
 * A decoder turns one YAML node into a value, reporting what is wrong with it. `expected` completes
 * "<key> must be …" in type errors; `acceptsNull` says that an explicit null is a meaningful value
 * (otherwise a null is treated as if the key were absent, so that `bridge:` with every child commented
 * out means "all defaults").
 */
export interface Decoder<T> {
  readonly expected: string;
  readonly acceptsNull?: boolean;
  decode(node: YamlNode, path: string, cx: DecodeContext): Decoded<T>;
}

export function wrongType(node: YamlNode, path: string, cx: DecodeContext, expected: string): typeof INVALID {
  return cx.report(node, path, 'WRONG_TYPE', `${nameOf(path)} must be ${expected} (got ${describeNode(node)})`);
}

// ---------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------

/** A scalar decoder with a refinement: `check` returns the value, or a message (reported with `code`). */
export function scalar<T>(
  expected: string,
  accept: (v: unknown) => boolean,
  check?: (v: unknown, cx: DecodeContext) => T | { error: string; code: ConfigErrorCode },
): Decoder<T> {
  return {
    expected,
    decode(node, path, cx) {
      if (!isScalar(node) || !accept(node.value)) return wrongType(node, path, cx, expected);
      if (!check) return node.value as T;
      const r = check(node.value, cx);
      if (r !== null && typeof r === 'object' && 'error' in (r as object)) {
        const e = r as { error: string; code: ConfigErrorCode };
        return cx.report(node, path, e.code, `${nameOf(path)} ${e.error}`);
      }
      return r as T;
    },
  };
}

export const fail = (error: string, code: ConfigErrorCode = 'BAD_FORMAT') => ({ error, code });

export function str(opts: { pattern?: RegExp; patternHelp?: string; nonEmpty?: boolean } = {}): Decoder<string> {
  const nonEmpty = opts.nonEmpty ?? true;
  return scalar<string>('a string', (v) => typeof v === 'string', (v) => {
    const s = v as string;
    if (nonEmpty && s.length === 0) return fail('must not be empty');
    if (opts.pattern && !opts.pattern.test(s)) return fail(`must be ${opts.patternHelp ?? `a string matching ${opts.pattern}`} (got ${JSON.stringify(s)})`);
    return s;
  });
}

export function int(min: number, max: number, expected = `an integer from ${min} to ${max}`): Decoder<number> {
  return {
    expected,
    decode(node, path, cx) {
      if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) return wrongType(node, path, cx, expected);
      if (node.value < min || node.value > max) {
        return cx.report(node, path, 'OUT_OF_RANGE', `${nameOf(path)} must be ${expected} (got ${node.value})`);
      }
      return node.value;
    },
  };
}

export function num(minExclusive: number, max: number, expected = `a number greater than ${minExclusive}`): Decoder<number> {
  return {
    expected,
    decode(node, path, cx) {
      if (!isScalar(node) || typeof node.value !== 'number' || !Number.isFinite(node.value)) return wrongType(node, path, cx, expected);
      if (!(node.value > minExclusive) || node.value > max) {
        return cx.report(node, path, 'OUT_OF_RANGE', `${nameOf(path)} must be ${expected} (got ${node.value})`);
      }
      return node.value;
    },
  };
}

export const bool: Decoder<boolean> = scalar<boolean>('true or false', (v) => typeof v === 'boolean');

export function oneOf<const T extends string>(values: readonly T[]): Decoder<T> {
  const expected = `one of ${values.join(', ')}`;
  return {
    expected,
    decode(node, path, cx) {
      if (isScalar(node) && typeof node.value === 'string' && (values as readonly string[]).includes(node.value)) return node.value as T;
      return cx.report(node, path, 'BAD_ENUM', `${nameOf(path)} must be ${expected} (got ${describeNode(node)})`);
    },
  };
}

/** Accepts an explicit null as the value null. */
export function nullable<T>(inner: Decoder<T>): Decoder<T | null> {
  return {
    expected: `${inner.expected} or null`,
    acceptsNull: true,
    decode(node, path, cx) {
      return isNullNode(node) ? null : inner.decode(node, path, cx);
    },
  };
}

/** Tries alternatives by node shape: the first whose `when` matches decodes; otherwise a type error. */
export function either<T>(expected: string, alternatives: Array<{ when: (node: YamlNode) => boolean; decoder: Decoder<T> }>): Decoder<T> {
  return {
    expected,
    decode(node, path, cx) {
      for (const alt of alternatives) if (alt.when(node)) return alt.decoder.decode(node, path, cx);
      return wrongType(node, path, cx, expected);
    },
  };
}

/** Maps a decoded value (after the inner decoder succeeded). */
export function map<A, B>(inner: Decoder<A>, f: (a: A, node: YamlNode, path: string, cx: DecodeContext) => Decoded<B>, expected = inner.expected): Decoder<B> {
  return {
    expected,
    ...(inner.acceptsNull ? { acceptsNull: true } : {}),
    decode(node, path, cx) {
      const a = inner.decode(node, path, cx);
      return a === INVALID ? INVALID : f(a, node, path, cx);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Lists and mappings
// ---------------------------------------------------------------------------------------------

export function list<T>(item: Decoder<T>, opts: { minItems?: number; uniqueItems?: boolean } = {}): Decoder<T[]> {
  return {
    expected: `a list`,
    decode(node, path, cx) {
      if (!isSeq(node)) return wrongType(node, path, cx, `a list`);
      const out: T[] = [];
      const seen = new Map<string, number>();
      node.items.forEach((raw, i) => {
        const itemPath = joinPath(path, i);
        const child = cx.deref(raw as YamlNode);
        if (child === null) {
          cx.report(raw as YamlNode, itemPath, 'WRONG_TYPE', `${nameOf(itemPath)} must be ${item.expected} (got nothing)`);
          return;
        }
        if (isNullNode(child) && !item.acceptsNull) {
          cx.report(child, itemPath, 'WRONG_TYPE', `${nameOf(itemPath)} must be ${item.expected} (got null)`);
          return;
        }
        const v = item.decode(child, itemPath, cx);
        if (v === INVALID) return;
        if (opts.uniqueItems && (typeof v === 'string' || typeof v === 'number')) {
          const key = String(v);
          const first = seen.get(key);
          if (first !== undefined) {
            cx.report(child, itemPath, 'DUPLICATE', `${nameOf(itemPath)} repeats ${JSON.stringify(v)} (already ${nameOf(joinPath(path, first))})`);
            return;
          }
          seen.set(key, i);
        }
        out.push(v);
      });
      if (opts.minItems !== undefined && node.items.length < opts.minItems) {
        return cx.report(node, path, 'MISSING_KEY', `${nameOf(path)} must have at least ${opts.minItems} item${opts.minItems === 1 ? '' : 's'}`);
      }
      return out;
    },
  };
}

/** A mapping from free-form keys to values (e.g. CRS `setVars`). */
export function record<T>(value: Decoder<T>, keyPattern: RegExp, keyHelp: string): Decoder<Record<string, T>> {
  return {
    expected: 'a mapping',
    decode(node, path, cx) {
      if (!isMap(node)) return wrongType(node, path, cx, 'a mapping');
      const out: Record<string, T> = {};
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode;
        const key = isScalar(keyNode) ? String(keyNode.value) : '';
        const keyPath = joinPath(path, key);
        if (!isScalar(keyNode) || !keyPattern.test(key)) {
          cx.report(keyNode, keyPath, 'BAD_FORMAT', `key ${JSON.stringify(key)} must be ${keyHelp}`);
          continue;
        }
        const child = cx.deref(pair.value as YamlNode | null);
        if (child === null || isNullNode(child)) {
          cx.report(child ?? keyNode, keyPath, 'WRONG_TYPE', `${key} must be ${value.expected} (got null)`);
          continue;
        }
        const v = value.decode(child, keyPath, cx);
        if (v !== INVALID) out[key] = v;
      }
      return out;
    },
  };
}

export interface Field<T> {
  readonly decoder: Decoder<T>;
  readonly required: boolean;
  /** Applied when the key is absent (or null for a decoder that does not accept null). */
  readonly default?: (cx: DecodeContext, path: string) => T;
}

export function required<T>(decoder: Decoder<T>): Field<T> {
  return { decoder, required: true };
}

export function optional<T>(decoder: Decoder<T>, fallback: T | ((cx: DecodeContext, path: string) => T)): Field<T> {
  const def = typeof fallback === 'function' ? (fallback as (cx: DecodeContext, path: string) => T) : () => structuredCloneIfObject(fallback);
  return { decoder, required: false, default: def };
}

/** An optional section: when absent, it is what an empty mapping decodes to (every key at its default). */
export function section<T>(decoder: Decoder<T>): Field<T> {
  return {
    decoder,
    required: false,
    default: (cx, path) => {
      const v = decoder.decode(new YAMLMap(), path, cx);
      if (v === INVALID) throw new Error(`bug: the defaults of ${path} do not validate`);
      return v;
    },
  };
}

function structuredCloneIfObject<T>(v: T): T {
  return v !== null && typeof v === 'object' ? structuredClone(v) : v;
}

export type Fields = Record<string, Field<unknown>>;

export interface ObjectOptions<T> {
  /** Adds `pos` (where the mapping starts) to the decoded object. */
  readonly withPos?: boolean;
  /**
   * Builds the final object from the decoded keys (derived fields, files read, checks that involve
   * several keys of this one object). Runs only when every key decoded; may report and return INVALID.
   */
  readonly derive?: (raw: Record<string, any>, node: YAMLMap, path: string, cx: DecodeContext) => Decoded<T>;
}

/** A mapping with a closed set of keys. */
export function object<T>(fields: Fields, opts: ObjectOptions<T> = {}): Decoder<T> {
  const allowed = Object.keys(fields);
  const expected = 'a mapping';
  return {
    expected,
    decode(node, path, cx) {
      if (!isMap(node)) return wrongType(node, path, cx, expected);
      const present = new Map<string, { value: YamlNode | null; keyNode: YamlNode }>();
      let complete = true;
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode;
        const key = isScalar(keyNode) ? keyNode.value : undefined;
        if (typeof key !== 'string' || !Object.hasOwn(fields, key)) {
          const shown = typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean' ? String(key) : describeNode(keyNode);
          cx.report(keyNode, joinPath(path, shown), 'UNKNOWN_KEY', `unknown key ${JSON.stringify(shown)}; allowed: ${allowed.join(', ')}`);
          complete = false;
          continue;
        }
        present.set(key, { value: cx.deref(pair.value as YamlNode | null), keyNode });
      }
      const out: Record<string, unknown> = {};
      for (const [key, f] of Object.entries(fields)) {
        const keyPath = joinPath(path, key);
        const given = present.get(key);
        const child = given?.value ?? null;
        const absent = given === undefined || isNullNode(child) && !f.decoder.acceptsNull;
        if (absent) {
          if (f.required) {
            // `key:` with nothing after it points at the key; a key not written at all, at its mapping.
            cx.report(given ? given.keyNode : node, keyPath, 'MISSING_KEY',
              given ? `required key "${key}" has no value` : `required key "${key}" is missing`);
            complete = false;
          } else if (f.default) {
            out[key] = f.default(cx, keyPath);
          }
          continue;
        }
        const v = f.decoder.decode(child ?? given!.keyNode, keyPath, cx);
        if (v === INVALID) {
          complete = false;
          if (f.default) out[key] = f.default(cx, keyPath); // keeps the object usable by cross-checks
          continue;
        }
        out[key] = v;
      }
      let result: Record<string, unknown> = out;
      if (complete && opts.derive) {
        const derived = opts.derive(out, node, path, cx);
        if (derived === INVALID) complete = false;
        else result = derived as Record<string, unknown>;
      }
      if (opts.withPos) result.pos = cx.sourcePos(node);
      cx.origins.set(result, { node, path });
      if (!complete) cx.incomplete.add(result);
      return result as T;
    },
  };
}
