/**
 * OWASP CRS as a rule set: builds the SecLang for a server group from its CrsPolicy and compiles it.
 *
 * Load order (what Debian's Apache config does, plus the engine defaults of
 * modsecurity.conf-recommended):
 *   1. engine defaults (SecRuleEngine On, body access and limits, XML/JSON body processor rules)
 *   2. crs-setup.conf (or crs-setup.conf.example next to a CRS v4 rules directory)
 *   3. a generated SecAction (id 9000000) setting paranoia level, thresholds and the group's setVars
 *   4. the group's `before` directives
 *   5. REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf when present next to the setup file
 *   6. every *.conf of the rules directory, sorted by name (generic: works for CRS v3 and v4)
 *   7. RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf when present
 *   8. SecRuleRemoveById / SecRuleRemoveByTag from removeRuleIds / removeRuleTags. They come after the
 *      rules because, as in ModSecurity, removal applies to rules already defined.
 * The result of 1–8 is compiled once per distinct (directories + settings) and forked for each group,
 * which then loads its own SecLang files and inline directives (rules are immutable and shared).
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CrsPolicy, SecLangPolicy } from '../config/types.js';
import { PolicyBuilder, type CompiledPolicy } from './seclang/parser.js';
import { expandIncludePath } from './seclang/glob.js';

export const CRS_SETTINGS_RULE_ID = 9000000;

/** modsecurity.conf-recommended, minus what does I/O (audit log, tmp dirs). */
export const ENGINE_DEFAULTS = `
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\\+|/)|text/)xml" \\
     "id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \\
     "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecArgumentsLimit 1000
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecArgumentSeparator &
SecCookieFormat 0
`;

/** Finds the setup file: the configured one, else crs-setup.conf(.example) next to the rules dir. */
export function resolveSetupFile(crs: CrsPolicy): string | null {
  if (existsSync(crs.setupFile)) return crs.setupFile;
  const parent = dirname(crs.rulesDir.replace(/\/+$/, ''));
  for (const name of ['crs-setup.conf', 'crs-setup.conf.example']) {
    const p = join(parent, name);
    if (existsSync(p)) return p;
  }
  return null;
}

function quoteArg(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The generated settings SecAction (step 3). */
export function crsSettingsAction(crs: CrsPolicy): string {
  const vars: [string, string][] = [
    ['paranoia_level', String(crs.paranoiaLevel)],
    ['executing_paranoia_level', String(crs.executingParanoiaLevel ?? crs.paranoiaLevel)],
    ['inbound_anomaly_score_threshold', String(crs.inboundAnomalyThreshold)],
    ['outbound_anomaly_score_threshold', String(crs.outboundAnomalyThreshold)],
    // CRS v4 names its levels "blocking"/"detection" paranoia level.
    ['blocking_paranoia_level', String(crs.paranoiaLevel)],
    ['detection_paranoia_level', String(crs.executingParanoiaLevel ?? crs.paranoiaLevel)],
  ];
  for (const [k, v] of Object.entries(crs.setVars)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(k)) throw new Error(`crs.setVars: bad variable name "${k}"`);
    vars.push([k, String(v)]);
  }
  const setvars = vars.map(([k, v]) => `setvar:'tx.${k}=${v.replace(/'/g, "\\'")}'`).join(',');
  return `SecAction "id:${CRS_SETTINGS_RULE_ID},phase:1,pass,nolog,t:none,${setvars}"`;
}

export interface CrsSource {
  readonly text: string;
  /** Cache key: equal keys compile to equal rule sets. */
  readonly key: string;
}

export function crsSource(crs: CrsPolicy): CrsSource {
  const parts: string[] = [ENGINE_DEFAULTS];
  const setup = resolveSetupFile(crs);
  if (setup) parts.push(`Include ${quoteArg(setup)}`);
  parts.push(crsSettingsAction(crs));
  parts.push(...crs.before);
  const setupDir = setup ? dirname(setup) : null;
  const before = setupDir ? join(setupDir, 'REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf') : null;
  if (before && existsSync(before)) parts.push(`Include ${quoteArg(before)}`);
  const rulesDir = crs.rulesDir.replace(/\/+$/, '');
  parts.push(`Include ${quoteArg(join(rulesDir, '*.conf'))}`);
  const after = setupDir ? join(setupDir, 'RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf') : null;
  if (after && existsSync(after)) parts.push(`Include ${quoteArg(after)}`);
  if (crs.removeRuleIds.length > 0) parts.push(`SecRuleRemoveById ${crs.removeRuleIds.join(' ')}`);
  for (const tag of crs.removeRuleTags) parts.push(`SecRuleRemoveByTag ${quoteArg(tag)}`);
  const text = parts.join('\n') + '\n';
  return { text, key: JSON.stringify({ text, rulesDir, files: listConf(rulesDir) }) };
}

function listConf(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.conf')).sort();
  } catch {
    return [];
  }
}

/**
 * Compiles group policies, sharing the CRS part between groups with identical CRS settings.
 * Throws PolicyLoadError (code ERR_POLICY_LOAD) listing every problem of a group.
 */
export class PolicyCompiler {
  private readonly crsCache = new Map<string, PolicyBuilder>();
  private readonly policyCache = new Map<string, CompiledPolicy>();
  /** Milliseconds spent compiling each distinct CRS configuration (for logs and tests). */
  readonly crsLoadTimes: number[] = [];

  constructor(private readonly configDir: string) {}

  compile(crs: CrsPolicy | null, secLang: SecLangPolicy): CompiledPolicy {
    const key = JSON.stringify({ crs: crs ? crsSource(crs).key : null, secLang });
    const cached = this.policyCache.get(key);
    if (cached) return cached;
    let builder: PolicyBuilder;
    if (crs) {
      builder = this.crsBuilder(crs).fork();
    } else {
      builder = new PolicyBuilder();
      builder.baseDir = this.configDir;
      // Without CRS the engine still inspects bodies so native rules and SecLang see arguments.
      builder.loadText(ENGINE_DEFAULTS, '<engine defaults>', this.configDir);
    }
    builder.baseDir = this.configDir;
    for (const pattern of secLang.files) {
      const files = /[*?[]/.test(pattern) ? expandIncludePath(pattern) : [pattern];
      for (const f of files) builder.loadFile(f);
    }
    if (secLang.directives) builder.loadText(secLang.directives, '<secLang.directives>', this.configDir);
    const compiled = builder.build();
    this.policyCache.set(key, compiled);
    return compiled;
  }

  private crsBuilder(crs: CrsPolicy): PolicyBuilder {
    const src = crsSource(crs);
    let b = this.crsCache.get(src.key);
    if (!b) {
      const t0 = performance.now();
      b = new PolicyBuilder();
      b.baseDir = this.configDir;
      b.loadText(src.text, '<crs>', this.configDir);
      this.crsLoadTimes.push(performance.now() - t0);
      this.crsCache.set(src.key, b);
    }
    return b;
  }
}
