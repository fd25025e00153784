/**
 * The nginx + ModSecurity v3 peer: Debian's recommended ModSecurity configuration (shipped by
 * libnginx-mod-http-modsecurity as /etc/nginx/modsecurity.conf, i.e. modsecurity.conf-recommended)
 * with the engine switched On, then Debian's OWASP CRS (crs-setup.conf + rules) at a paranoia level.
 * Everything is copied into the instance's private prefix; /etc is only read.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const MODSEC_RECOMMENDED = '/etc/nginx/modsecurity.conf';
export const MODSEC_UNICODE_MAP = '/etc/nginx/unicode.mapping';
export const CRS_SETUP = '/etc/modsecurity/crs/crs-setup.conf';
export const CRS_BEFORE = '/etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf';
export const CRS_RULES = '/usr/share/modsecurity-crs/rules';
export const CRS_AFTER = '/etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf';

/** Writes PREFIX/modsecurity.conf and PREFIX/modsec-crs.conf; returns the latter (for modsecurity_rules_file). */
export function writeModsecurityRules(prefix: string, paranoiaLevel: 1 | 2 | 3 | 4): string {
  for (const f of [MODSEC_RECOMMENDED, MODSEC_UNICODE_MAP, CRS_SETUP]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: install libnginx-mod-http-modsecurity and modsecurity-crs (bench/setup.sh)`);
  }
  const recommended = readFileSync(MODSEC_RECOMMENDED, 'utf8');
  const replaced = new Set<string>();
  const sub = (text: string, re: RegExp, to: string, what: string) => {
    if (!re.test(text)) throw new Error(`${MODSEC_RECOMMENDED}: expected a ${what} line to adapt, found none`);
    replaced.add(what);
    return text.replace(re, to);
  };
  let conf = recommended;
  conf = sub(conf, /^SecRuleEngine .*$/m, 'SecRuleEngine On', 'SecRuleEngine');
  // Private files: the audit log, temp and data dirs live in the prefix.
  conf = sub(conf, /^SecAuditLog .*$/m, `SecAuditLog ${join(prefix, 'modsec_audit.log')}`, 'SecAuditLog');
  conf = conf.replace(/^SecTmpDir .*$/m, `SecTmpDir ${prefix}/`).replace(/^SecDataDir .*$/m, `SecDataDir ${prefix}/`);
  // Relative to the including file in /etc/nginx; the copy lives elsewhere.
  conf = conf.replace(/^SecUnicodeMapFile unicode\.mapping/m, `SecUnicodeMapFile ${MODSEC_UNICODE_MAP}`);
  // The status engine would try a DNS query (this harness is loopback-only); it does nothing per request.
  conf = conf.replace(/^SecStatusEngine On/m, 'SecStatusEngine Off');
  writeFileSync(join(prefix, 'modsecurity.conf'), conf);

  const rulesFile = join(prefix, 'modsec-crs.conf');
  writeFileSync(
    rulesFile,
    [
      `Include ${join(prefix, 'modsecurity.conf')}`,
      `Include ${CRS_SETUP}`,
      `SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=${paranoiaLevel}"`,
      existsSync(CRS_BEFORE) ? `Include ${CRS_BEFORE}` : '',
      `Include ${CRS_RULES}/*.conf`,
      existsSync(CRS_AFTER) ? `Include ${CRS_AFTER}` : '',
      '',
    ].join('\n'),
  );
  return rulesFile;
}
