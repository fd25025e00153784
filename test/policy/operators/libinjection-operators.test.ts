import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOperator, RecordingTx, ALL_BYTES, ONE_MB } from './operator-harness.js';

test('@detectSQLi detects libinjection SQLi and captures the fingerprint', () => {
  const op = createOperator('detectSQLi', '');
  const rows: Array<[string, boolean, string?]> = [
    ["1' or '1'='1", true, 's&sos'], ['1 union select 1,2', true, '1UE1'], ["' or 1=1--", true],
    ['hello world', false], ['', false], ['john.doe@example.com', false], ['O\'Reilly', false],
  ];
  for (const [value, expected, fingerprint] of rows) {
    const otx = new RecordingTx({}, true);
    assert.equal(op.evaluate(otx, value), expected, value);
    if (fingerprint) assert.equal(otx.captures.get(0), fingerprint, value);
    if (!expected) assert.equal(otx.captures.size, 0);
  }
  assert.equal(op.evaluate(new RecordingTx(), ALL_BYTES), false);
  assert.equal(op.evaluate(new RecordingTx(), ONE_MB), false);
});

test('@detectXSS detects libinjection XSS and captures the value', () => {
  const op = createOperator('detectXSS', '');
  const rows: Array<[string, boolean]> = [
    ['<script>alert(1)</script>', true], ['<img src=x onerror=alert(1)>', true], ['"><svg/onload=alert(1)>', true],
    ['<a href="javascript:alert(1)">', true], ['hello <b>world</b>', false], ['a < b and c > d', false], ['', false],
  ];
  for (const [value, expected] of rows) {
    const otx = new RecordingTx({}, true);
    assert.equal(op.evaluate(otx, value), expected, value);
    if (expected) assert.equal(otx.captures.get(0), value);
  }
  assert.equal(op.evaluate(new RecordingTx(), ONE_MB), false);
});
