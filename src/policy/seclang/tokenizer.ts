/**
 * Splits SecLang text into directives the way Apache's config reader (which ModSecurity v2 uses) does:
 * - a line ending in a backslash continues on the next line (the backslash is removed, the next line is
 *   appended as is, so indentation inside a quoted action list survives and the action parser trims it);
 * - a line whose first non-blank character is '#' is a comment (only outside a continuation);
 * - arguments are separated by blanks; an argument that starts with " or ' runs to the matching quote,
 *   and inside it only a backslash before that quote character is an escape (other backslashes are kept
 *   verbatim, which is what keeps PCRE patterns intact).
 */
import { DirectiveError } from '../errors.js';

export interface RawDirective {
  /** Directive name as written (SecRule, Include …). */
  readonly name: string;
  readonly args: readonly string[];
  readonly file: string;
  /** Line where the directive starts (1-based). */
  readonly line: number;
}

export interface TokenizeProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export function tokenize(text: string, file: string, problems: TokenizeProblem[]): RawDirective[] {
  const out: RawDirective[] = [];
  const lines = text.split(/\r?\n/);
  let buf = '';
  let startLine = 0;
  let continuing = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!continuing) {
      const trimmed = raw.trimStart();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      startLine = i + 1;
      buf = '';
    }
    if (raw.endsWith('\\') && !raw.endsWith('\\\\\\')) {
      // A trailing backslash continues the line. (An escaped backslash pair at the very end of a
      // line does not occur in practice; three are treated as escape + continuation.)
      buf += raw.slice(0, -1);
      continuing = true;
      continue;
    }
    buf += raw;
    continuing = false;
    pushDirective(buf, file, startLine, out, problems);
  }
  if (continuing && buf.trim() !== '') pushDirective(buf, file, startLine, out, problems);
  return out;
}

function pushDirective(text: string, file: string, line: number, out: RawDirective[], problems: TokenizeProblem[]): void {
  try {
    const words = splitWords(text);
    if (words.length === 0) return;
    out.push({ name: words[0]!, args: words.slice(1), file, line });
  } catch (err) {
    problems.push({ file, line, message: (err as Error).message });
  }
}

/** Apache ap_getword_conf semantics (see the module comment). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isBlank(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const c = text[i]!;
    if (c === '"' || c === "'") {
      let j = i + 1;
      let word = '';
      let closed = false;
      while (j < n) {
        const d = text[j]!;
        if (d === '\\' && j + 1 < n && text[j + 1] === c) {
          word += c;
          j += 2;
          continue;
        }
        if (d === c) {
          closed = true;
          j++;
          break;
        }
        word += d;
        j++;
      }
      if (!closed) throw new DirectiveError(`unterminated ${c === '"' ? 'double' : 'single'}-quoted argument`);
      words.push(word);
      i = j;
    } else {
      let j = i;
      while (j < n && !isBlank(text.charCodeAt(j))) j++;
      words.push(text.slice(i, j));
      i = j;
    }
  }
  return words;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10 || c === 11 || c === 12;
}
