/**
 * Typed errors of the policy engine. Rule text problems are collected while a policy loads (so an
 * operator sees every mistake at once) and thrown together as one PolicyLoadError.
 */

/** One problem found while loading SecLang or native policies. */
export interface LoadProblem {
  readonly file: string;
  readonly line: number;
  /** Rule id when the problem belongs to a rule with a known id, else null. */
  readonly ruleId: number | null;
  readonly message: string;
}

export function formatProblem(p: LoadProblem): string {
  const rule = p.ruleId !== null ? ` (rule ${p.ruleId})` : '';
  return `${p.file}:${p.line}${rule}: ${p.message}`;
}

export class PolicyLoadError extends Error {
  readonly code = 'ERR_POLICY_LOAD';
  readonly problems: readonly LoadProblem[];

  constructor(problems: readonly LoadProblem[]) {
    const shown = problems.slice(0, 20).map(formatProblem).join('\n  ');
    const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
    super(`policy failed to load (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${shown}${more}`);
    this.name = 'PolicyLoadError';
    this.problems = Object.freeze([...problems]);
  }
}

/** Thrown inside the parser for one directive; caught and turned into a LoadProblem. */
export class DirectiveError extends Error {
  readonly code = 'ERR_POLICY_DIRECTIVE';
}
