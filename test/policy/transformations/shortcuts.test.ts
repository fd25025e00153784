/**
 * The shortcuts in front of the ported loops (htmlEntityDecode: no '&' starting an entity;
 * normalisePath(Win): no separator and no trailing '.'; lowercase: native toLowerCase without latin1
 * capitals) must give exactly what the loops give. Compared on random strings rich in the bytes that
 * drive each one, plus fixed edge cases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEntities } from '../../../src/policy/transformations/html-entity-decode.js';
import { normaliseLoop } from '../../../src/policy/transformations/normalise-path.js';
import { getTransformation } from '../../../src/policy/transformations/index.js';

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomStrings(alphabet: string[], seed: number, count = 30000): string[] {
  const rnd = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = Math.floor(rnd() * 16);
    let s = '';
    for (let k = 0; k < len; k++) s += rnd() < 0.9 ? alphabet[Math.floor(rnd() * alphabet.length)]! : String.fromCharCode(Math.floor(rnd() * 256));
    out.push(s);
  }
  return out;
}

test('htmlEntityDecode: the no-entity shortcut agrees with the decoder', () => {
  const t = getTransformation('htmlEntityDecode')!;
  const fixed = ['a=1&b=2', '&', 'x&', '&#', '&#x', '&#xg', '&#1', '&#X4', '&lt', '&LT;', '&ltx', '&nbsp', '&nbspx', '&quot1', '&amp;&',
    '&constructor', '&toString;', '&valueOf', '&__proto__', '&a&lt;', '&#;&gt'];
  const alphabet = ['&', '&', '#', 'x', 'X', ';', '1', '9', 'a', 'f', 'g', 'lt', 'gt', 'amp', 'quot', 'nbsp', 'LT', 'Nbsp', 'z', '=', ' '];
  for (const s of [...fixed, ...randomStrings(alphabet, 11)]) assert.equal(t.transform(s), decodeEntities(s), JSON.stringify(s));
  // Names are looked up in a Map: Object.prototype members are not entities.
  assert.equal(t.transform('&constructor;&toString'), '&constructor;&toString');
});

test('normalisePath(Win): the no-separator shortcut agrees with the loop', () => {
  const alphabet = ['.', '.', '/', '\\', 'a', 'b', '..', './', '../', '//', '\\\\'];
  const fixed = ['.', '..', 'a.', 'a..', 'ab..', 'a.b', '...', 'x\\y', '\\', '/', 'a.b.', '.a'];
  for (const win of [false, true]) {
    const t = getTransformation(win ? 'normalisePathWin' : 'normalisePath')!;
    for (const s of [...fixed, ...randomStrings(alphabet, 13)]) assert.equal(t.transform(s), normaliseLoop(s, win), `${win} ${JSON.stringify(s)}`);
  }
});

test('lowercase: folds A-Z only, never latin1 capitals', () => {
  const t = getTransformation('lowercase')!;
  const alphabet = ['A', 'Z', 'a', '@', '[', '\xc0', '\xc9', '\xde', '\xdf', '\xe9', '\xff', '0'];
  for (const s of randomStrings(alphabet, 17)) {
    let expected = '';
    for (const ch of s) {
      const c = ch.charCodeAt(0);
      expected += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : ch;
    }
    assert.equal(t.transform(s), expected, JSON.stringify(s));
  }
});
