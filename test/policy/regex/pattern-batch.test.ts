import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testNeeding, crsTestsAvailable } from '../prerequisites.js';
import { compileRuleRegex, type CompiledRegex } from '../../../src/policy/regex/index.js';
import { BATCH_MIN_SUBJECT, PatternBatch } from '../../../src/policy/regex/pattern-batch.js';
import { extractRuleOperators, ruleFiles } from './crs-rules.js';
import { crsCorpus } from './crs-corpus.js';

const files = ruleFiles();
const rx = extractRuleOperators(files).filter((o) => o.name === 'rx' && !o.param.includes('%{'));

/** Benign filler around payloads, so subjects are large enough to be answered by the batch. */
const FILLER_ASCII = 'please leave the parcel with the neighbour if nobody is home; ring twice, thanks! '.repeat(4);
const FILLER_LATIN1 = 'Grüße aus Köln, Straße 12 — café ½ öffnet um 9 Uhr. '.repeat(5);

function largeSubjects(payloads: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of payloads) {
    out.push(FILLER_ASCII + p);
    out.push(p + FILLER_LATIN1 + p.toUpperCase());
    let r = p;
    while (r.length < BATCH_MIN_SUBJECT) r += ' ' + p;
    out.push(r);
  }
  return out.filter((s) => s.length >= BATCH_MIN_SUBJECT);
}

/** The CRS RE2 patterns, each compiled twice: alone (reference) and as a batch member. */
function batched(size: number): Array<{ id: string; alone: CompiledRegex; member: CompiledRegex }> {
  const pairs = rx
    .map((o) => ({ id: o.id, alone: compileRuleRegex(o.param), member: compileRuleRegex(o.param) }))
    .filter((p) => p.alone.engine === 're2');
  for (let start = 0; start < pairs.length; start += size) {
    const group = pairs.slice(start, start + size);
    const batch = new PatternBatch(group.map((p) => p.member.source));
    assert.ok(batch.usable, `RE2.Set builds from patterns ${group[0]!.id}…`);
    group.forEach((p, i) => assert.equal(p.member.joinBatch!(batch, i), true));
  }
  return pairs;
}

testNeeding('a batch member answers as the pattern alone on large CRS payload subjects (test and exec)', { 'modsecurity-crs': files.length > 0, 'the CRS regression tests': crsTestsAvailable() }, () => {
  const subjects = largeSubjects(crsCorpus(500));
  assert.ok(subjects.length > 500, `payload subjects (${subjects.length})`);
  let compared = 0;
  let matched = 0;
  for (const size of [48, 7]) {
    const pairs = batched(size);
    assert.ok(pairs.length >= 250, `the CRS RE2 patterns (${pairs.length})`);
    for (const s of subjects) {
      for (const p of pairs) {
        const want = p.alone.test(s);
        assert.equal(p.member.test(s), want, `rule ${p.id}, batches of ${size}, on ${JSON.stringify(s.slice(0, 160))}`);
        if (want) {
          matched++;
          assert.deepEqual(p.member.exec(s), p.alone.exec(s), `rule ${p.id} exec`);
        }
        compared++;
      }
    }
  }
  // Not vacuous: payloads do match CRS patterns, and most pairs do not.
  assert.ok(matched > 1000 && matched < compared / 2, `${matched} of ${compared} matched`);
  console.log(`# ${compared} batched pattern × subject answers identical (${matched} matches)`);
});

test('a batch answers only for subjects of BATCH_MIN_SUBJECT bytes or more; smaller ones go to the pattern', () => {
  const a = compileRuleRegex('union\\s+select');
  const b = compileRuleRegex('(?i)<script');
  const c = compileRuleRegex('etc/passwd');
  const batch = new PatternBatch([a.source, b.source, c.source]);
  assert.ok(batch.usable);
  [a, b, c].forEach((re, i) => re.joinBatch!(batch, i));
  const pad = 'x'.repeat(BATCH_MIN_SUBJECT);
  assert.equal(batch.mayMatch(0, pad + 'union  select'), true);
  assert.equal(batch.mayMatch(1, pad + 'union  select'), false);
  assert.equal(batch.mayMatch(2, pad + 'union  select'), false);
  assert.equal(a.test(pad + 'union  select'), true);
  assert.equal(b.test(pad + 'union  select'), false);
  assert.equal(b.test(pad + '<SCRIPT>'), true);
  assert.equal(c.test('/etc/passwd'), true); // short: the pattern alone
  // Non-ASCII bytes: the set sees the same UTF-8 form as the pattern.
  const latin = pad + '\xe9t\xe9 etc/passwd';
  assert.equal(batch.mayMatch(2, latin), true);
  assert.equal(c.test(latin), true);
});

test('a batch RE2 cannot build answers "may match" and its members keep working alone', () => {
  const batch = new PatternBatch(['(unclosed', 'abc']);
  assert.equal(batch.usable, false);
  assert.equal(batch.mayMatch(1, 'y'.repeat(BATCH_MIN_SUBJECT)), true);
});

test('exec answers of short subjects are remembered per pattern, and stay right per subject', () => {
  const re = compileRuleRegex('^([^;\\s]+)(?:;\\s*charset=(\\S+))?');
  assert.equal(re.engine, 're2');
  const a = 'application/x-www-form-urlencoded; charset=UTF-8';
  const b = 'application/json';
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(re.exec(a), [a, 'application/x-www-form-urlencoded', 'UTF-8']);
    assert.deepEqual(re.exec(b), [b, 'application/json', undefined]);
    assert.equal(re.exec(' leading space'), null);
  }
  const long = 'x'.repeat(300) + ';';
  assert.deepEqual(re.exec(long), ['x'.repeat(300), 'x'.repeat(300), undefined]);
});
