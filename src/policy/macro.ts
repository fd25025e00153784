/**
 * Macro strings ("%{tx.anomaly_score}", "%{MATCHED_VAR}", "%{request_headers.host}"). Compiled once at
 * load time into constant parts and variable references; expansion per transaction only concatenates.
 * An unknown variable in a macro is a load error. A reference that resolves to nothing expands to ''.
 */
import type { Macro } from './types.js';
import type { VariableSpec } from './variables/variable-spec.js';
import { getVariable } from './variables/index.js';
import type { Transaction } from './transaction.js';

interface MacroRef {
  readonly spec: VariableSpec;
  /** Lower-case key within a collection, or null for scalars. */
  readonly key: string | null;
}

type Part = string | MacroRef;

const MACRO_RE = /%\{([^}]*)\}/g;
const NO_REFS: readonly string[] = Object.freeze([]);

export function compileMacro(text: string): Macro {
  if (!text.includes('%{')) return constantMacro(text);
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(MACRO_RE)) {
    if (m.index! > last) parts.push(text.slice(last, m.index));
    parts.push(compileRef(m[1]!.trim()));
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  const refs = [...new Set(parts.filter((p): p is MacroRef => typeof p !== 'string').map((p) => p.spec.name))];
  return {
    constant: null,
    refs,
    expand(tx: unknown): string {
      const t = tx as Transaction;
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : t.macroValue(p.spec, p.key);
      return out;
    },
  };
}

export function constantMacro(text: string): Macro {
  return { constant: text, expand: () => text, refs: NO_REFS };
}

function compileRef(ref: string): MacroRef {
  const dot = ref.indexOf('.');
  const name = dot < 0 ? ref : ref.slice(0, dot);
  const key = dot < 0 ? null : ref.slice(dot + 1).toLowerCase();
  const spec = getVariable(name);
  if (!spec) throw new Error(`unknown variable "${name}" in macro %{${ref}}`);
  if (spec.kind === 'collection' && key === null) throw new Error(`macro %{${ref}} names a collection without a key`);
  return { spec, key: spec.kind === 'collection' ? key : null };
}
