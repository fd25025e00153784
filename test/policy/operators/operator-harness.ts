/**
 * Test harness for operators: a real LoadContext on real files, a macro that expands "%{name}" from a
 * plain object (standing in for the transaction, which operators treat as opaque), and an OperatorTx that
 * records captures.
 */
import { readFileSync } from 'node:fs';
import type { LoadContext, Macro, Operator, OperatorTx } from '../../../src/policy/types.js';
import { getOperator } from '../../../src/policy/operators/index.js';

export function loadContext(baseDir: string): LoadContext {
  return {
    baseDir,
    readFile(path: string): string {
      try { return readFileSync(path, 'utf8'); } catch (e) { throw new Error(`cannot read ${path}: ${(e as Error).message}`); }
    },
  };
}

export function testMacro(text: string): Macro {
  if (!text.includes('%{')) return { constant: text, expand: () => text };
  return {
    constant: null,
    expand(tx: unknown): string {
      const vars = tx as Record<string, string>;
      return text.replace(/%\{([^}]*)\}/g, (_, name: string) => vars[name.toLowerCase()] ?? '');
    },
  };
}

export class RecordingTx implements OperatorTx {
  readonly captures = new Map<number, string>();
  constructor(readonly tx: Record<string, string> = {}, readonly capturing = false) {}
  setCapture(index: number, value: string): void { this.captures.set(index, value); }
}

export function createOperator(name: string, param: string, baseDir = '/nonexistent'): Operator {
  const spec = getOperator(name);
  if (!spec) throw new Error(`no operator ${name}`);
  return spec.create(param, testMacro(param), loadContext(baseDir));
}

/** Runs `value` through a fresh operator; returns the match result. */
export function matches(name: string, param: string, value: string, vars: Record<string, string> = {}): boolean {
  return createOperator(name, param).evaluate(new RecordingTx(vars), value);
}

export const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
export const ONE_MB = 'a'.repeat(1 << 20);
