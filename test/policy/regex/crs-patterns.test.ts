import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleRegex } from '../../../src/policy/regex/index.js';
import { extractRuleOperators, ruleFiles } from './crs-rules.js';
import { crsCorpus } from './crs-corpus.js';
import { perlAvailable, perlMatches } from './perl-oracle.js';

const files = ruleFiles();
const rx = extractRuleOperators(files).filter((o) => o.name === 'rx' && !o.param.includes('%{'));

test('every @rx pattern of Debian CRS 3.3.4 compiles through compileRuleRegex', { skip: files.length === 0 && 'modsecurity-crs is not installed' }, () => {
  const engines: Record<string, number> = {};
  for (const o of rx) {
    const re = compileRuleRegex(o.param);
    engines[re.engine] = (engines[re.engine] ?? 0) + 1;
  }
  // 264 patterns without macros in 3.3.4 (plus one with a macro, compiled per transaction by @rx).
  assert.ok(rx.length >= 250, `expected the CRS pattern set, found ${rx.length}`);
  assert.equal((engines.re2 ?? 0) + (engines.bounded ?? 0), rx.length);
  assert.ok((engines.re2 ?? 0) >= rx.length - 10, `RE2 should run almost all patterns: ${JSON.stringify(engines)}`);
  console.log(`# CRS @rx patterns: ${rx.length} compiled (${JSON.stringify(engines)})`);
});

test('CRS patterns give Perl\'s (PCRE\'s) answers on the CRS regression payloads', { skip: (files.length === 0 || !perlAvailable()) && 'needs modsecurity-crs, the CRS tests and perl' }, () => {
  const subjects = crsCorpus(600).filter((s) => !s.endsWith('\n'));
  if (subjects.length === 0) return;
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
