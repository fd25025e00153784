import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, createOperator, RecordingTx } from './operator-harness.js';
import { cAtoi } from '../../../src/policy/operators/c-numbers.js';

test('atoi follows glibc: whitespace, sign, digits up to the first other byte, 64-bit clamp then int cast', () => {
  const rows: Array<[string, number]> = [
    ['0', 0], ['42', 42], ['-42', -42], ['+7', 7], ['  12abc', 12], ['\t\n 5', 5], ['abc', 0], ['', 0], ['-', 0],
    ['1e3', 1], ['0x10', 0], ['007', 7], ['2147483647', 2147483647], ['2147483648', -2147483648],
    ['4294967296', 0], ['99999999999', 1215752191], ['99999999999999999999', -1], ['-99999999999999999999', 0],
    [' - 5', 0], ['12\x0034', 12],
  ];
  for (const [s, n] of rows) assert.equal(cAtoi(s), n, JSON.stringify(s));
});

test('numeric comparison operators (table)', () => {
  const rows: Array<[string, string, string, boolean]> = [
    ['eq', '0', '0', true], ['eq', '0', '', true], ['eq', '0', 'abc', true], ['eq', '1', '01', true], ['eq', '1', '2', false],
    ['gt', '5', '6', true], ['gt', '5', '5', false], ['gt', '0', '-1', false],
    ['ge', '5', '5', true], ['ge', '5', '4', false],
    ['lt', '5', '4', true], ['lt', '5', '5', false], ['lt', '1', 'x', true],
    ['le', '5', '5', true], ['le', '5', '6', false],
    ['eq', 'abc', '0', true], ['gt', '', '1', true],
  ];
  for (const [op, param, value, expected] of rows) {
    assert.equal(matches(op, param, value), expected, `@${op} ${param} on ${JSON.stringify(value)}`);
  }
});

test('numeric operators expand macros (CRS anomaly thresholds)', () => {
  const ge = createOperator('ge', '%{tx.inbound_anomaly_score_threshold}');
  assert.equal(ge.evaluate(new RecordingTx({ 'tx.inbound_anomaly_score_threshold': '5' }), '5'), true);
  assert.equal(ge.evaluate(new RecordingTx({ 'tx.inbound_anomaly_score_threshold': '5' }), '4'), false);
  assert.equal(ge.evaluate(new RecordingTx({}), '0'), true, 'an empty expansion is atoi("") = 0');
});

test('numeric operators on a 1 MB value do not throw', () => {
  assert.equal(matches('gt', '0', '9'.repeat(1 << 20)), false, 'overflow clamps to LONG_MAX, whose int cast is -1');
  assert.equal(matches('eq', '0', 'x'.repeat(1 << 20)), true);
});
