/**
 * Test/bench helper: pulls the operators out of the SecRule directives of a CRS installation without the
 * engine's parser (owned elsewhere), so the regex and operator tests can run over the real rule files.
 * Handles what CRS uses: backslash line continuations, comment lines, double-quoted arguments with \".
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const DEBIAN_CRS_DIRS = ['/usr/share/modsecurity-crs/rules', '/etc/modsecurity/crs'];

export interface RuleOperator {
  readonly file: string;
  readonly line: number;
  readonly id: string;
  /** Operator name without '@', as written (implicit operator is "rx"). */
  readonly name: string;
  readonly param: string;
  readonly negated: boolean;
}

function splitArguments(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let arg = '';
    if (text[i] === '"' || text[i] === "'") {
      const quote = text[i]!;
      i++;
      while (i < text.length && text[i] !== quote) {
        // Apache's config reader only unescapes a backslash before the quote character.
        if (text[i] === '\\' && text[i + 1] === quote) { arg += quote; i += 2; continue; }
        arg += text[i];
        i++;
      }
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) { arg += text[i]; i++; }
    }
    args.push(arg);
  }
  return args;
}

export function ruleFiles(dirs: readonly string[] = DEBIAN_CRS_DIRS): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) if (name.endsWith('.conf')) files.push(join(dir, name));
  }
  return files;
}

export function extractRuleOperators(files: readonly string[]): RuleOperator[] {
  const out: RuleOperator[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let n = 0; n < lines.length; n++) {
      const start = n;
      let text = lines[n]!;
      while (text.endsWith('\\') && n + 1 < lines.length) { text = text.slice(0, -1) + lines[++n]!; }
      const trimmed = text.trimStart();
      if (!trimmed.startsWith('SecRule ')) continue;
      const args = splitArguments(trimmed.slice('SecRule'.length));
      let op = args[1] ?? '';
      const negated = op.startsWith('!');
      if (negated) op = op.slice(1);
      let name = 'rx';
      let param = op;
      if (op.startsWith('@')) {
        const m = /^@([A-Za-z0-9]+)\s?/.exec(op);
        name = m ? m[1]! : '';
        param = op.slice(m ? m[0].length : 1);
      }
      const id = /(?:^|,)\s*id:'?(\d+)/.exec(args[2] ?? '')?.[1] ?? '-';
      out.push({ file, line: start + 1, id, name, param, negated });
    }
  }
  return out;
}
