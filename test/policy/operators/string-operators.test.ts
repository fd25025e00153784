import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, ALL_BYTES, ONE_MB, createOperator, RecordingTx } from './operator-harness.js';

type Row = [operator: string, param: string, value: string, expected: boolean];

const rows: Row[] = [
  // @streq: exact, byte for byte
  ['streq', 'POST', 'POST', true], ['streq', 'POST', 'post', false], ['streq', 'POST', 'POST ', false],
  ['streq', '', '', true], ['streq', '', 'x', false], ['streq', 'a', '', false],
  // @contains: empty parameter always matches (v2)
  ['contains', '/admin/', '/x/admin/y', true], ['contains', '/admin/', '/ADMIN/', false],
  ['contains', '', 'anything', true], ['contains', '', '', true], ['contains', 'abc', 'ab', false], ['contains', 'x', '', false],
  // @beginsWith / @endsWith
  ['beginsWith', 'GET /', 'GET /index', true], ['beginsWith', 'GET /', 'PUT /', false], ['beginsWith', '', 'x', true],
  ['beginsWith', 'abc', 'ab', false],
  ['endsWith', '.pdf', 'file.pdf', true], ['endsWith', '.pdf', 'file.PDF', false], ['endsWith', '', 'x', true],
  ['endsWith', 'abc', 'bc', false],
  // @within: the VALUE is a substring of the parameter (v2), empty value matches
  ['within', 'GET HEAD POST OPTIONS', 'GET', true], ['within', 'GET HEAD POST OPTIONS', 'PUT', false],
  ['within', 'GET HEAD POST OPTIONS', 'ET H', true], ['within', 'GET HEAD POST OPTIONS', 'get', false],
  ['within', 'GET', '', true], ['within', 'GET', 'GETX', false], ['within', '|utf-8|iso-8859-1|', '|utf-8|', true],
  // @containsWord: word boundaries are non-[A-Za-z0-9_] or the edges
  ['containsWord', 'select', 'select * from', true], ['containsWord', 'select', 'x=1;select', true],
  ['containsWord', 'select', 'selected', false], ['containsWord', 'select', '_select', false],
  ['containsWord', 'select', 'selection select', true], ['containsWord', 'select', 'select', true],
  ['containsWord', '', 'x', true], ['containsWord', 'a', '', false],
  // @strmatch: case-sensitive substring, |hex| content
  ['strmatch', 'WebZIP', 'Mozilla WebZIP/1.0', true], ['strmatch', 'WebZIP', 'webzip', false],
  ['strmatch', '|41 42|C', 'xABCx', true], ['strmatch', '|41 42|C', 'xAB C', false],
];

test('string operators (table)', () => {
  for (const [op, param, value, expected] of rows) {
    assert.equal(matches(op, param, value), expected, `@${op} ${JSON.stringify(param)} on ${JSON.stringify(value)}`);
  }
});

test('string operators expand macros per transaction', () => {
  const op = createOperator('within', '%{tx.allowed_methods}');
  assert.equal(op.evaluate(new RecordingTx({ 'tx.allowed_methods': 'GET HEAD' }), 'HEAD'), true);
  assert.equal(op.evaluate(new RecordingTx({ 'tx.allowed_methods': 'GET' }), 'HEAD'), false);
  const ends = createOperator('endsWith', '.%{request_headers.host}');
  assert.equal(ends.evaluate(new RecordingTx({ 'request_headers.host': 'example.com' }), 'a.example.com'), true);
  assert.equal(ends.evaluate(new RecordingTx({ 'request_headers.host': 'example.com' }), 'aexample.com'), false);
  const streq = createOperator('streq', '%{tx.x}');
  assert.equal(streq.evaluate(new RecordingTx({}), ''), true, 'a macro that expands to nothing equals the empty value');
});

test('string operators handle every byte value and non-ASCII parameters as UTF-8 bytes', () => {
  assert.equal(matches('contains', '\u00ff', ALL_BYTES), false, 'ÿ in a UTF-8 rule file is C3 BF, not the byte FF');
  assert.equal(matches('contains', '\u00e9', 'caf\u00c3\u00a9'), true, 'é is matched as its UTF-8 bytes');
  assert.equal(matches('contains', '\x00', 'a\x00b'), true);
  assert.equal(matches('streq', 'abc', 'abc\x00'), false);
  assert.equal(matches('beginsWith', '\x01\x02', ALL_BYTES.slice(1)), true);
});

test('string operators on a 1 MB value', () => {
  assert.equal(matches('contains', 'needle', ONE_MB + 'needle'), true);
  assert.equal(matches('endsWith', 'aab', ONE_MB), false);
  assert.equal(matches('within', 'aaa', ONE_MB), false);
  assert.equal(matches('containsWord', 'a', ONE_MB), false);
  assert.equal(matches('containsWord', 'b', ONE_MB + ' b'), true);
});
