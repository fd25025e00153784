import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleRegex } from '../../../src/policy/regex/index.js';

function timed(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

test('classic catastrophic patterns run in linear time on RE2', () => {
  const re = compileRuleRegex('^(a+)+$');
  assert.equal(re.engine, 're2');
  const ms = timed(() => assert.equal(re.test('a'.repeat(100_000) + 'b'), false));
  assert.ok(ms < 200, `took ${ms.toFixed(1)} ms`);
});

test('a pattern that needs backtracking is bounded by the step budget, not by the input', () => {
  // CRS 942130 (backreferences under (?i), nested lazy repeats) is the slowest pattern we run; the same
  // shape with a backreference forces the bounded matcher.
  const p = '(?i:[\\s\'"`()]*?\\b([\\d\\w]+)\\b[\\s\'"`()]*?(?:<(?:=(?:[\\s\'"`()]*?(?!\\b\\1\\b)[\\d\\w]+|>[\\s\'"`()]*?(?:\\b\\1\\b))|>?[\\s\'"`()]*?(?!\\b\\1\\b)[\\d\\w]+)|(?:not\\s+(?:regexp|like)|is\\s+not|>=?|!=|\\^)[\\s\'"`()]*?(?!\\b\\1\\b)[\\d\\w]+|(?:(?:sounds\\s+)?like|r(?:egexp|like)|=)[\\s\'"`()]*?(?:\\b\\1\\b)))';
  const re = compileRuleRegex(p);
  assert.equal(re.engine, 'bounded');
  assert.equal(re.test('1=1'), true);
  for (const input of ['x=1;'.repeat(16384), ' '.repeat(65536) + 'a', 'a '.repeat(40000)]) {
    const ms = timed(() => re.test(input));
    assert.ok(ms < 200, `took ${ms.toFixed(1)} ms on ${input.length} bytes`);
  }
  const nested = compileRuleRegex('^(?:(a+)+)(?=b)\\1$');
  assert.equal(nested.engine, 'bounded');
  const ms = timed(() => assert.equal(nested.test('a'.repeat(5000) + 'c'), false));
  assert.ok(ms < 200, `nested quantifier took ${ms.toFixed(1)} ms`);
  assert.equal(nested.limitExceeded, true, 'the budget ran out: reported, and the answer is "no match" as PCRE\'s match limit');
});

test('a 1 MB value through a bounded pattern does not overflow the stack', () => {
  const re = compileRuleRegex('(?:a|b)*c(?=d)');
  assert.equal(re.engine, 'bounded');
  const ms = timed(() => assert.equal(re.test('ab'.repeat(1 << 19)), false));
  assert.ok(ms < 500, `took ${ms.toFixed(1)} ms`);
  assert.equal(re.test('abcd'), true);
});
