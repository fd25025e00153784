import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperator, matches, RecordingTx, ONE_MB, ALL_BYTES } from './operator-harness.js';
import { PhraseSet, parsePmContent } from '../../../src/policy/operators/index.js';

test('@pm matches any phrase, case-insensitively, anywhere in the value', () => {
  const rows: Array<[string, string, boolean]> = [
    ['document.cookie document.write', 'x=DOCUMENT.Cookie', true],
    ['document.cookie document.write', 'document.writ', false],
    ['AppleWebKit Android', 'Mozilla/5.0 (Linux; Android 10)', true],
    ['?>', 'a?>b', true], ['=', 'a=b', true], ['(', 'ab', false],
    ['<!-- -->', 'x-->', true],
  ];
  for (const [param, value, expected] of rows) assert.equal(matches('pm', param, value), expected, `${param} / ${value}`);
  assert.equal(matches('pm', 'abc', ''), false, 'an empty value never matches');
});

test('@pm case folding is ASCII only, like ACMP in the C locale', () => {
  assert.equal(matches('pm', 'caf\u00c3\u00a9', 'CAF\u00c3\u00a9'), false, 'the parameter é is its UTF-8 bytes, never folded');
  assert.equal(matches('pm', 'ab', 'xAbx'), true);
});

test('@pm with capture sets TX.0 to the phrase, the longest one ending first', () => {
  const op = createOperator('pm', 'he she hers his');
  const otx = new RecordingTx({}, true);
  assert.equal(op.evaluate(otx, 'ushers'), true);
  assert.equal(otx.captures.get(0), 'she', 'at "ushe" both "she" and "he" end; the longest is reported');
  const otx2 = new RecordingTx({}, true);
  assert.equal(createOperator('pm', 'abcd bc').evaluate(otx2, 'xabcd'), true);
  assert.equal(otx2.captures.get(0), 'bc', 'the scan stops where the first phrase ends');
});

test('@pm parameter content: quotes, |hex| and escapes as parse_pm_content', () => {
  assert.equal(parsePmContent('"abc def"'), 'abc def');
  assert.equal(parsePmContent('a|41 42|b'), 'aABb');
  assert.equal(parsePmContent('a\\:b'), 'a:b');
  assert.equal(parsePmContent('a|b'), 'a|b', 'nothing converted: the text stays as written');
  assert.throws(() => parsePmContent('a\\qb'), /unsupported escape/);
  assert.throws(() => parsePmContent('""'), /content length is 0/);
  assert.equal(matches('pm', '|3c 73|cript', '<script>'), true);
  assert.equal(matches('pm', 'a\\qb', 'xa\\qbx'), true, 'v2 falls back to the raw text when parsing fails');
});

test('PhraseSet on every byte value, on 1 MB and with thousands of phrases', () => {
  const set = new PhraseSet(['\x00\xff', 'zz']);
  assert.equal(set.search(ALL_BYTES), null);
  assert.equal(set.search('a\x00\xffb'), '\x00\xff');
  assert.equal(new PhraseSet(['needle']).search(ONE_MB + 'NEEDLE'), 'needle');
  const many = Array.from({ length: 5000 }, (_, i) => `word${i}x`);
  const big = new PhraseSet(many);
  assert.equal(big.search('...WORD4999X...'), 'word4999x');
  assert.equal(big.search('word5000x word49'), null);
  assert.equal(new PhraseSet([]).search('x'), null);
});

test('@pmFromFile reads phrases per line, skips comments and blank lines, resolves relative names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcl-pmf-'));
  writeFileSync(join(dir, 'a.data'), '# comment\n\n  /etc/passwd  \r\nwin.ini\n"quoted one"\n|2e 2e|/x\n');
  writeFileSync(join(dir, 'b.data'), 'second-file');
  const op = createOperator('pmFromFile', 'a.data b.data', dir);
  const rows: Array<[string, boolean]> = [
    ['/ETC/PASSWD', true], ['c:\\win.ini', true], ['# comment', false], ['quoted one', false], ['"quoted one"', true],
    ['a/../x', true], ['SECOND-FILE', true], ['nothing', false],
  ];
  for (const [value, expected] of rows) assert.equal(op.evaluate(new RecordingTx(), value), expected, value);
  assert.equal(createOperator('pmf', 'b.data', dir).evaluate(new RecordingTx(), 'second-file'), true);
  assert.throws(() => createOperator('pmFromFile', 'missing.data', dir), /cannot read .*missing\.data/);
  assert.throws(() => createOperator('pmFromFile', '', dir), /missing file name/);
  assert.throws(() => createOperator('pmFromFile', 'https://example.com/x.data', dir), /remote data files are not supported/);
});

test('@pm required bytes: the union of each phrase\'s rarest byte; none when a phrase is all letters', () => {
  const members = (w: Uint32Array) => { let s = ''; for (let b = 0; b < 256; b++) if (w[b >>> 5]! & (1 << (b & 31))) s += String.fromCharCode(b); return s; };
  const dotted = createOperator('pm', 'java.lang.Runtime org.apache.x $_GET');
  assert.equal(members(dotted.requiredBytes![0]!), '$.');
  assert.equal(createOperator('pm', 'select union').requiredBytes, null);
  assert.equal(createOperator('pm', 'a.b plain').requiredBytes, null, 'one phrase without a rare byte disables it');
  // Soundness: whatever matches holds a required byte.
  const otx = new RecordingTx();
  for (const v of ['JAVA.LANG.RUNTIME', 'x$_get', 'org.apache.x', 'javalangruntime', 'java lang', '$_GE', '']) {
    if (dotted.evaluate(otx, v)) assert.match(v, /[$.]/, v);
  }
  assert.equal(dotted.evaluate(otx, 'javalangruntime'), false);
  assert.equal(dotted.evaluate(otx, 'JAVA.LANG.RUNTIME'), true);
});
