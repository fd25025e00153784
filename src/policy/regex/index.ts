export { compileRuleRegex, translatePcre, loadRe2, RuleRegexError } from './compile-rule-regex.js';
export type { CompiledRegex, CompileOptions, RegexEngineName, Translation } from './compile-rule-regex.js';
export { parsePcre, PcreSyntaxError, ByteSet } from './pcre-syntax.js';
export type { Node as RegexNode, ParsedPattern } from './pcre-syntax.js';
export { BoundedMatcher, DEFAULT_STEP_LIMIT } from './bounded-matcher.js';
