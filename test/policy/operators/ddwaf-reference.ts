/**
 * The libinjection copy bundled in libddwaf (@datadog/native-appsec), reached through its WAF API: one
 * instance with two rules — is_sqli on address "sqli", is_xss on address "xss" — runs one value per call.
 *
 * NOT used by the operators (they use the TypeScript port in sqli.ts / xss.ts); kept as the reference the
 * port is tested against. Measured limits of this route (docs/RATIONALE.md, "SQLi/XSS detection"):
 *  - libddwaf truncates strings to 4096 bytes before matching, so only the first 4 KB of a value is seen;
 *  - the binding takes JavaScript strings and passes UTF-8, so bytes 0x80–0xFF reach libinjection as two
 *    bytes each (libinjection treats both as word characters, so fingerprints rarely change);
 *  - about 13–16 µs per call.
 */
import { createRequire } from 'node:module';

interface DdwafResult { status?: string; events?: Array<{ rule_matches?: Array<{ parameters?: Array<{ highlight?: string[] }> }> }> }
interface DdwafContext { run(payload: { ephemeral: Record<string, string> }, timeout: number): DdwafResult; dispose(): void }
interface Ddwaf { createContext(): DdwafContext; diagnostics: { rules?: { loaded?: string[]; failed?: string[] } } }

/** libddwaf's own string limit: values are truncated to this many bytes before libinjection sees them. */
export const LIBINJECTION_MAX_BYTES = 4096;

let waf: Ddwaf | null = null;

function instance(): Ddwaf {
  if (waf !== null) return waf;
  let DDWAF: new (rules: object, path: string) => Ddwaf;
  try {
    DDWAF = (createRequire(import.meta.url)('@datadog/native-appsec') as { DDWAF: typeof DDWAF }).DDWAF;
  } catch (e) {
    throw new Error(`@detectSQLi/@detectXSS need libinjection from @datadog/native-appsec, which could not be loaded: ${(e as Error).message}`);
  }
  const rule = (id: string, operator: string) => ({
    id, name: id, tags: { type: id, category: 'attack_attempt' },
    conditions: [{ operator, parameters: { inputs: [{ address: id }] } }],
    transformers: [],
  });
  const w = new DDWAF({ version: '2.2', metadata: { rules_version: '1' }, rules: [rule('sqli', 'is_sqli'), rule('xss', 'is_xss')] }, 'portcullis/libinjection');
  const loaded = w.diagnostics.rules?.loaded ?? [];
  if (!loaded.includes('sqli') || !loaded.includes('xss')) {
    throw new Error(`libddwaf did not load the libinjection rules (${JSON.stringify(w.diagnostics.rules)})`);
  }
  waf = w;
  return w;
}

/** True if libddwaf can be loaded here (tests skip the comparison otherwise). */
export function ddwafAvailable(): boolean {
  try { instance(); return true; } catch { return false; }
}

function run(address: 'sqli' | 'xss', value: string): DdwafResult {
  const ctx = instance().createContext();
  try {
    // Effectively no timeout: a value must be judged completely, not abandoned.
    return ctx.run({ ephemeral: { [address]: value } }, 10_000_000);
  } finally {
    ctx.dispose();
  }
}

/** The libinjection fingerprint if `value` is SQL injection, else null. */
export function ddwafSqliFingerprint(value: string): string | null {
  if (value.length === 0) return null;
  const r = run('sqli', value);
  if (r.status !== 'match') return null;
  return r.events?.[0]?.rule_matches?.[0]?.parameters?.[0]?.highlight?.[0] ?? '';
}

export function ddwafIsXss(value: string): boolean {
  if (value.length === 0) return false;
  return run('xss', value).status === 'match';
}
