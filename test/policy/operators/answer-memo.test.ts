import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerMemo } from '../../../src/policy/operators/libinjection/answer-memo.js';
import { getOperator } from '../../../src/policy/operators/index.js';
import { loadContext, testMacro } from './operator-harness.js';

test('AnswerMemo: computes once per short value (null answers too), always for long ones, stays bounded', () => {
  const calls: string[] = [];
  const memo = new AnswerMemo((v: string) => { calls.push(v); return v.includes("'") ? 'sos' : null; });
  assert.equal(memo.get("a'b"), 'sos');
  assert.equal(memo.get("a'b"), 'sos');
  assert.equal(memo.get('plain'), null);
  assert.equal(memo.get('plain'), null);
  assert.deepEqual(calls, ["a'b", 'plain']);
  const long = 'x'.repeat(300);
  memo.get(long);
  memo.get(long);
  assert.equal(calls.filter((c) => c === long).length, 2, 'long values are not remembered');
  for (let i = 0; i < 5000; i++) memo.get(`v${i}`);
  calls.length = 0;
  memo.get('v4999');
  assert.deepEqual(calls, [], 'recent answers are kept');
  memo.get('v0');
  assert.deepEqual(calls, ['v0'], 'old answers were dropped when the memo filled up');
});

test('@detectSQLi / @detectXSS give the same answers and captures on repeated values', () => {
  const sqli = getOperator('detectSQLi')!.create('', testMacro(''), loadContext('/'));
  const xss = getOperator('detectXSS')!.create('', testMacro(''), loadContext('/'));
  for (let round = 0; round < 3; round++) {
    const caps: string[] = [];
    const otx = { tx: null, capturing: true, setCapture: (_i: number, v: string) => { caps.push(v); } };
    assert.equal(sqli.evaluate(otx, "1' or 1=1--"), true);
    assert.equal(sqli.evaluate(otx, 'red running shoes'), false);
    assert.equal(xss.evaluate(otx, '<script>alert(1)</script>'), true);
    assert.equal(xss.evaluate(otx, 'hello world'), false);
    assert.deepEqual(caps, ['s&1c', '<script>alert(1)</script>'], `round ${round}`);
  }
});
