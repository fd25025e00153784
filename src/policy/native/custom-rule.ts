/**
 * Custom match rules: every configured condition (method, host, path, header, argument) must match;
 * each condition is exact, prefix or regex, optionally case-insensitive. Regexes compile at load time.
 * Rules with an argument condition are checked when arguments are known (after the body).
 */
import type { CustomRule, StringMatch } from '../../config/types.js';
import type { CollectionView } from '../collection.js';
import type { NativeHit, NativePolicy, NativeRequest } from './native-policy.js';

type Test = (s: string) => boolean;

export function compileStringMatch(m: StringMatch): Test {
  if (m.kind === 'regex') {
    let re: RegExp;
    try {
      re = new RegExp(m.value, m.caseInsensitive ? 'i' : '');
    } catch (err) {
      throw new Error(`bad regular expression "${m.value}": ${(err as Error).message}`);
    }
    return (s) => re.test(s);
  }
  const want = m.caseInsensitive ? m.value.toLowerCase() : m.value;
  const norm = m.caseInsensitive ? (s: string) => s.toLowerCase() : (s: string) => s;
  return m.kind === 'exact' ? (s) => norm(s) === want : (s) => norm(s).startsWith(want);
}

export function customRulePolicy(rule: CustomRule): NativePolicy {
  const m = rule.match;
  const method = m.method ? compileStringMatch(m.method) : null;
  const host = m.host ? compileStringMatch(m.host) : null;
  const path = m.path ? compileStringMatch(m.path) : null;
  const header = m.header ? { name: m.header.name.toLowerCase(), test: compileStringMatch(m.header.value) } : null;
  const argument = m.argument ? { name: m.argument.name.toLowerCase(), test: compileStringMatch(m.argument.value) } : null;

  const headMatches = (req: NativeRequest): string | null => {
    const parts: string[] = [];
    if (method) {
      if (!method(req.method)) return null;
      parts.push(`method=${req.method}`);
    }
    if (host) {
      if (!host(req.host)) return null;
      parts.push(`host=${req.host}`);
    }
    if (path) {
      if (!path(req.path)) return null;
      parts.push(`path=${req.path}`);
    }
    if (header) {
      const v = req.headers.find(([k, val]) => k.toLowerCase() === header.name && header.test(val));
      if (!v) return null;
      parts.push(`${v[0]}=${v[1]}`);
    }
    return parts.join(' ');
  };
  const hit = (matched: string): NativeHit => ({
    policyId: rule.id,
    policyName: rule.name,
    msg: `Custom rule "${rule.name}" matched`,
    matched,
    action: rule.action,
    status: rule.status,
  });
  if (!argument) {
    return { id: rule.id, name: rule.name, checkHead: (req) => { const h = headMatches(req); return h === null ? null : hit(h); } };
  }
  return {
    id: rule.id,
    name: rule.name,
    checkBody(req, args: CollectionView) {
      const h = headMatches(req);
      if (h === null) return null;
      const a = args.byKey(argument.name).find((e) => argument.test(e.value));
      if (!a) return null;
      return hit(`${h}${h ? ' ' : ''}${a.key}=${a.value}`);
    },
  };
}
