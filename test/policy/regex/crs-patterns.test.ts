import { testNeeding, crsTestsAvailable } from '../prerequisites.js';
import assert from 'node:assert/strict';
import { compileRuleRegex } from '../../../src/policy/regex/index.js';
import { extractRuleOperators, ruleFiles } from './crs-rules.js';
import { crsCorpus } from './crs-corpus.js';
import { perlAvailable, perlMatches } from './perl-oracle.js';

const files = ruleFiles();
const rx = extractRuleOperators(files).filter((o) => o.name === 'rx' && !o.param.includes('%{'));

testNeeding('every @rx pattern of Debian CRS 3.3.4 compiles through compileRuleRegex', { 'modsecurity-crs': files.length > 0 }, () => {
  const engines: Record<string, number> = {};
  for (const o of rx) {
    const re = compileRuleRegex(o.param);
    engines[re.engine] = (engines[re.engine] ?? 0) + 1;
  }
  // 264 patterns without macros in 3.3.4 (plus one with a macro, compiled per transaction by @rx).
  assert.ok(rx.length >= 250, `expected the CRS pattern set, found ${rx.length}`);
  assert.equal((engines.re2 ?? 0) + (engines.bounded ?? 0) + (engines.trivial ?? 0), rx.length);
  assert.ok((engines.trivial ?? 0) >= 1, 'CRS 920450 uses ^.*$');
  assert.ok((engines.re2 ?? 0) + (engines.trivial ?? 0) >= rx.length - 10, `RE2 should run almost all patterns: ${JSON.stringify(engines)}`);
  console.log(`# CRS @rx patterns: ${rx.length} compiled (${JSON.stringify(engines)})`);
});

testNeeding('CRS patterns give Perl\'s (PCRE\'s) answers on the CRS regression payloads', { 'modsecurity-crs': files.length > 0, perl: perlAvailable(), 'the CRS regression tests': crsTestsAvailable() }, () => {
  const subjects = crsCorpus(600).filter((s) => !s.endsWith('\n'));
  assert.ok(subjects.length > 100, `the CRS regression tests give payloads (${subjects.length})`);
  const oracle = perlMatches(rx.map((o) => o.param), subjects);
  let compared = 0;
  rx.forEach((o, i) => {
    const re = compileRuleRegex(o.param);
    for (let j = 0; j < subjects.length; j++) {
      const got = re.test(subjects[j]!) ? '1' : '0';
      assert.equal(got, oracle[i]![j], `rule ${o.id} (${re.engine}) on ${JSON.stringify(subjects[j]!.slice(0, 120))}`);
      compared++;
    }
  });
  console.log(`# ${compared} pattern × payload results identical to Perl`);
});
