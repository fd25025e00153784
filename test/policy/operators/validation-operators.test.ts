import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOperator, matches, ALL_BYTES, ONE_MB } from './operator-harness.js';
import { meetsByteSets, presentBytes } from '../../../src/policy/regex/required-bytes.js';

const requiredBytesHelpers = { meetsByteSets, presentBytes };

test('@validateByteRange: matches when a byte is outside the allowed set', () => {
  const rows: Array<[string, string, boolean]> = [
    ['1-255', 'normal text', false], ['1-255', 'nul\x00byte', true], ['1-255', '', false],
    ['1-255', ALL_BYTES.slice(1), false], ['1-255', ALL_BYTES, true],
    ['9,10,13,32-126,128-255', 'tab\there\r\n', false], ['9,10,13,32-126,128-255', 'del\x7f', true],
    ['9,10,13,32-126,128-255', '\x80\xff', false],
    ['38,44-46,48-58,61,65-90,95,97-122', 'name_1=a.b', false], ['38,44-46,48-58,61,65-90,95,97-122', 'a b', true],
    ['32-36,38-126', '%', true], ['65', 'AAA', false], ['65', 'AAB', true],
  ];
  for (const [param, value, expected] of rows) assert.equal(matches('validateByteRange', param, value), expected, `${param} / ${JSON.stringify(value)}`);
  assert.equal(matches('validateByteRange', '97', ONE_MB), false);
  assert.equal(matches('validateByteRange', '97', ONE_MB + 'b'), true);
});

test('@validateByteRange rejects bad ranges at load time', () => {
  for (const [bad, msg] of [['256', /invalid range value: 256/], ['10-300', /range end value: 300/], ['20-10', /invalid range: 20-10/], ['', /missing parameter/], ['-1-5', /range start/]] as const) {
    assert.throws(() => createOperator('validateByteRange', bad), msg, bad);
  }
});

test('@validateUrlEncoding: a % must be followed by two hex digits (v2 validate_url_encoding)', () => {
  const rows: Array<[string, boolean]> = [
    ['a%20b', false], ['%41', false], ['%4a%4A', false], ['no percent', false], ['', false],
    ['%', true], ['a%', true], ['a%4', true], ['%zz', true], ['%4g', true], ['%%41', true], ['100%', true],
    ['%u0041', true], ['%41%', true],
  ];
  for (const [value, expected] of rows) assert.equal(matches('validateUrlEncoding', '', value), expected, JSON.stringify(value));
  assert.equal(matches('validateUrlEncoding', '', '%41'.repeat(350000)), false);
  assert.equal(matches('validateUrlEncoding', '', ONE_MB + '%'), true);
});

test('@validateUtf8Encoding: invalid, truncated, overlong, surrogate and out-of-range sequences match', () => {
  const b = (...x: number[]) => String.fromCharCode(...x);
  const rows: Array<[string, string, boolean]> = [
    ['ASCII', 'plain ascii', false], ['empty', '', false],
    ['é', b(0xc3, 0xa9), false], ['€', b(0xe2, 0x82, 0xac), false], ['😀', b(0xf0, 0x9f, 0x98, 0x80), false],
    ['U+10FFFF', b(0xf4, 0x8f, 0xbf, 0xbf), false], ['U+FFFF', b(0xef, 0xbf, 0xbf), false],
    ['lone continuation', b(0x80), true], ['lead without continuation', b(0xc3, 0x41), true],
    ['truncated 2', b(0x41, 0xc3), true], ['truncated 3', b(0xe2, 0x82), true], ['truncated 4', b(0xf0, 0x9f, 0x98), true],
    ['overlong / (C0 AF)', b(0xc0, 0xaf), true], ['overlong C1', b(0xc1, 0xbf), true],
    ['overlong 3-byte', b(0xe0, 0x80, 0xaf), true], ['overlong 4-byte', b(0xf0, 0x80, 0x80, 0xaf), true],
    ['surrogate D800', b(0xed, 0xa0, 0x80), true], ['surrogate DFFF', b(0xed, 0xbf, 0xbf), true],
    ['F5 lead', b(0xf5, 0x80, 0x80, 0x80), true], ['F8 lead', b(0xf8, 0x88, 0x80, 0x80, 0x80), true], ['FF', b(0xff), true],
    ['latin1 é', 'caf' + b(0xe9), true],
  ];
  for (const [name, value, expected] of rows) assert.equal(matches('validateUtf8Encoding', '', value), expected, name);
  assert.equal(matches('validateUtf8Encoding', '', b(0xc3, 0xa9).repeat(500000)), false);
  assert.equal(matches('validateUtf8Encoding', '', ALL_BYTES), true);
});

test('@validateByteRange/@validateUrlEncoding/@validateUtf8Encoding: every matching value holds a byte of each required set', () => {
  // requiredBytes lets the engine skip values before transforming them: a value that matches but
  // lacks the bytes would be missed. Random byte strings biased to each operator's trigger bytes.
  const { presentBytes, meetsByteSets } = requiredBytesHelpers;
  const cases: readonly (readonly [name: string, param: string, alphabet: string])[] = [
    ['validateByteRange', '1-255', 'abc%\x00\x01'],
    ['validateByteRange', '9,10,13,32-126,128-255', 'a \t\x7f\x1f\x80\xff'],
    ['validateByteRange', '32-36,38-126', 'a%&$\x1f'],
    ['validateByteRange', '38,44-46,48-58,61,65-90,95,97-122', 'a_=.& /'],
    ['validateByteRange', '0-255', 'a\x00\xff'],
    ['validateByteRange', '65', 'AB'],
    ['validateUrlEncoding', '', '%a0fgG9'],
    ['validateUtf8Encoding', '', 'a\x80\xbf\xc2\xe0\xed\xf0\xf4\xf5\xff'],
  ];
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  for (const [name, param, alphabet] of cases) {
    const op = createOperator(name, param);
    const sets = op.requiredBytes;
    assert.ok(sets && sets.length > 0, `${name} ${param} states required bytes`);
    let matched = 0;
    for (let i = 0; i < 20000; i++) {
      let s = '';
      const len = Math.floor(rnd() * 12);
      for (let k = 0; k < len; k++) s += rnd() < 0.85 ? alphabet[Math.floor(rnd() * alphabet.length)]! : String.fromCharCode(Math.floor(rnd() * 256));
      const present = presentBytes(s, new Uint32Array(8));
      const m = op.evaluate({ tx: null, capturing: false, setCapture() {} }, s);
      if (m) matched++;
      if (m) assert.ok(meetsByteSets(present, sets), `${name} ${param} matched ${JSON.stringify(s)} without a required byte`);
    }
    if (param !== '0-255') assert.ok(matched > 0, `${name} ${param}: the random strings include matches`);
  }
  // A char above 0xFF (never in a byte string) matches and is never filtered out.
  for (const [name, param] of [['validateByteRange', '1-255'], ['validateUtf8Encoding', '']] as const) {
    const op = createOperator(name, param);
    assert.equal(op.evaluate({ tx: null, capturing: false, setCapture() {} }, '\u0100'), true);
    assert.ok(meetsByteSets(presentBytes('\u0100', new Uint32Array(8)), op.requiredBytes!));
  }
});
