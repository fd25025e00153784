import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOperator, matches, RecordingTx, ONE_MB, ALL_BYTES } from './operator-harness.js';

test('@rx matches bytes with ModSecurity v2 flags (DOTALL, DOLLAR_ENDONLY)', () => {
  const rows: Array<[string, string, boolean]> = [
    ['a.c', 'a\nc', true], ['^abc$', 'abc\n', false], ['(?i)select', 'SeLeCt', true], ['^$', '', true],
    ['\\x00', 'a\x00', true], ['[\\x80-\\xff]', 'caf\xe9', true], ['(?i)\u00e9', '\xc3\x89', false],
  ];
  for (const [param, value, expected] of rows) assert.equal(matches('rx', param, value), expected, `/${param}/ on ${JSON.stringify(value)}`);
});

test('@rx capture: TX.0 whole match, TX.n groups up to the last that took part', () => {
  const op = createOperator('rx', '(a)(x)?(b)(y)?');
  const otx = new RecordingTx({}, true);
  assert.equal(op.evaluate(otx, '--ab--'), true);
  assert.deepEqual([...otx.captures.entries()], [[0, 'ab'], [1, 'a'], [2, ''], [3, 'b']]);
  const none = new RecordingTx({}, true);
  assert.equal(op.evaluate(none, 'zzz'), false);
  assert.equal(none.captures.size, 0);
  const notCapturing = new RecordingTx({}, false);
  assert.equal(op.evaluate(notCapturing, 'ab'), true);
  assert.equal(notCapturing.captures.size, 0);
  const many = new RecordingTx({}, true);
  createOperator('rx', '(1)(2)(3)(4)(5)(6)(7)(8)(9)(10)(11)').evaluate(many, '1234567891011');
  assert.deepEqual([...many.captures.keys()], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'TX.0..TX.9 only');
});

test('@rx with a macro compiles the expansion per transaction', () => {
  const op = createOperator('rx', '^%{tx.allowed_request_content_type_charset}$');
  const tx = { 'tx.allowed_request_content_type_charset': 'utf-8|iso-8859-1' };
  assert.equal(op.evaluate(new RecordingTx(tx), 'utf-8'), true);
  assert.equal(op.evaluate(new RecordingTx(tx), 'iso-8859-1'), true);
  assert.equal(op.evaluate(new RecordingTx(tx), 'utf-16'), false);
  // v2 runs the expanded pattern through log_escape_re(): "(" . "+" "?" become literals, "|" "^" "$" "*" stay.
  assert.equal(op.evaluate(new RecordingTx({ 'tx.allowed_request_content_type_charset': '(' }), '('), true);
  assert.equal(op.evaluate(new RecordingTx({ 'tx.allowed_request_content_type_charset': 'a.c' }), 'abc'), false);
  assert.equal(op.evaluate(new RecordingTx({ 'tx.allowed_request_content_type_charset': 'a.c' }), 'a.c'), true);
  assert.equal(op.evaluate(new RecordingTx({ 'tx.allowed_request_content_type_charset': 'ab*' }), 'abbb'), true);
  const paren = createOperator('rx', '(%{tx.x})');
  assert.equal(paren.evaluate(new RecordingTx({ 'tx.x': 'y' }), '(y)'), true, 'the pattern\'s own parentheses are escaped too');
  assert.equal(paren.evaluate(new RecordingTx({ 'tx.x': 'y' }), 'y'), false);
});

test('@rx rejects bad patterns at load time and survives any input', () => {
  assert.throws(() => createOperator('rx', '[unclosed'), /missing terminating \]/);
  assert.throws(() => createOperator('rx', 'a{2,1}'), /out of order/);
  const op = createOperator('rx', '(?i)union\\s+select');
  assert.equal(op.evaluate(new RecordingTx(), ALL_BYTES), false);
  assert.equal(op.evaluate(new RecordingTx(), ONE_MB + ' UNION  SELECT'), true);
  assert.equal(op.evaluate(new RecordingTx(), ''), false);
});

test('@unconditionalMatch, @noMatch, @geoLookup and @rbl', () => {
  assert.equal(matches('unconditionalMatch', '', ''), true);
  assert.equal(matches('noMatch', '', 'x'), false);
  assert.equal(matches('geoLookup', '', '8.8.8.8'), false, 'no geolocation database: no match, as v2 without SecGeoLookupDb');
  assert.equal(matches('rbl', 'dnsbl.httpbl.org', '1.2.3.4'), false, 'the engine does no DNS lookups');
  assert.throws(() => createOperator('rbl', ''), /missing parameter/);
});

test('logEscapeRe escapes exactly what ModSecurity v2 escapes', async () => {
  const { logEscapeRe } = await import('../../../src/policy/operators/rx.js');
  assert.equal(logEscapeRe('^a|b$'), '^a|b$');
  assert.equal(logEscapeRe('(a.b)+?[c]/:"\\'), '\\(a\\.b\\)\\+\\?\\[c\\]\\/\\:\\"\\\\');
  assert.equal(logEscapeRe('\t\n\r\x0b\x08\x01\x7f\xff'), '\\t\\n\\r\\v\\b\\x01\\x7f\\xff');
  assert.equal(logEscapeRe('*{}'), '*{}');
});
