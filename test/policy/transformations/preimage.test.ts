/**
 * TransformationSpec.preimage is a promise the engine relies on to skip values (src/policy/value-filter.ts):
 * "if the output holds a byte of S, the input holds a byte of preimage(S)". Checked here on random and
 * adversarial byte strings for every transformation that declares one, byte by byte of the output (the
 * preimages are unions over the bytes of S, so single-byte sets cover every S), plus P ⊇ S.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transformations } from '../../../src/policy/transformations/index.js';
import type { TransformationSpec } from '../../../src/policy/types.js';

function single(b: number): Uint32Array {
  const s = new Uint32Array(8);
  s[b >>> 5]! |= 1 << (b & 31);
  return s;
}

function has(set: Uint32Array, b: number): boolean {
  return (set[b >>> 5]! & (1 << (b & 31))) !== 0;
}

/** Bytes that drive decoders and comment/space handling, weighted in, plus any byte. */
const INTERESTING = '%+&#;\\/.*-<!>uUxX0123456789abcdefABCDEF \t\r\n\v\f\0\xa0\xc3\xa9\xe2\x80\x99,;"\'^(lt gt amp quot nbsp';

function randomInput(rnd: () => number): string {
  const len = Math.floor(rnd() * 24);
  let s = '';
  for (let i = 0; i < len; i++) {
    s += rnd() < 0.8 ? INTERESTING[Math.floor(rnd() * INTERESTING.length)]! : String.fromCharCode(Math.floor(rnd() * 256));
  }
  return s;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIXED = [
  '', '%', '%2', '%41', '%u0041', '%uff41', '+', 'a+b', '&lt;', '&#60;', '&#x3c', '&nbsp;', '\\x41', '\\u0041', '\\3c ',
  '/*c*/', 'a/*', '<!--x-->', '--', '#', 'A,B;C', 'AbC', '\xc3\xa9', '\xe2\x80\x99', 'a\\b\\..\\c', '/a/./b/../c/', '\0x\0',
  ' \t\n x \xa0 ', 'SELECT', 'c^a"t \'/etc/passwd\'',
];

const withPreimage: TransformationSpec[] = [...transformations.values()].filter((t) => t.preimage !== undefined);

test('transformations that the value filter relies on declare a preimage', () => {
  const names = new Set(withPreimage.map((t) => t.name));
  for (const n of ['lowercase', 'urlDecode', 'urlDecodeUni', 'htmlEntityDecode', 'jsDecode', 'cssDecode', 'cmdLine',
    'compressWhitespace', 'removeNulls', 'removeWhitespace', 'replaceComments', 'utf8toUnicode', 'normalisePath',
    'normalisePathWin', 'trim', 'none']) {
    assert.ok(names.has(n), `${n} has no preimage`);
  }
});

for (const t of withPreimage) {
  test(`${t.name}: every output byte comes from an input holding a byte of its preimage`, () => {
    const pre: Uint32Array[] = [];
    for (let b = 0; b < 256; b++) {
      const s = single(b);
      const p = t.preimage!(s);
      assert.deepEqual(s, single(b), 'preimage must not modify its argument');
      if (p !== null) assert.ok(has(p, b), `preimage({${b}}) must contain ${b} (P ⊇ S)`);
      pre.push(p ?? new Uint32Array(8).fill(0xffffffff));
    }
    const rnd = mulberry32(0x5eed ^ t.name.length);
    const inputs = [...FIXED];
    for (let i = 0; i < 20000; i++) inputs.push(randomInput(rnd));
    for (const input of inputs) {
      const output = t.transform(input);
      for (let i = 0; i < output.length; i++) {
        const b = output.charCodeAt(i);
        const p = pre[b]!;
        let ok = false;
        for (let j = 0; j < input.length && !ok; j++) ok = has(p, input.charCodeAt(j));
        assert.ok(ok, `${t.name}(${JSON.stringify(input)}) = ${JSON.stringify(output)}: byte ${b} without a preimage byte in the input`);
      }
    }
  });
}

/*
 * TransformationSpec.triggers: "an input holding none of these bytes comes out unchanged"; the engine
 * skips the call on that promise (transaction.ts). Checked on random strings drawn from every byte
 * outside the set, weighted towards the bytes that drive the decoders.
 */
const withTriggers: TransformationSpec[] = [...transformations.values()].filter((t) => t.triggers !== undefined);

test('the hot CRS transformations declare triggers (aliases too)', () => {
  const names = new Set(withTriggers.map((t) => t.name));
  for (const n of ['lowercase', 'urlDecode', 'urlDecodeUni', 'htmlEntityDecode', 'jsDecode', 'cssDecode', 'cmdLine',
    'compressWhitespace', 'removeNulls', 'removeWhitespace', 'utf8toUnicode', 'normalisePath', 'normalisePathWin',
    'normalizePath', 'normalizePathWin']) {
    assert.ok(names.has(n), `${n} declares no triggers`);
  }
});

for (const t of withTriggers) {
  test(`${t.name}: an input without any trigger byte comes out unchanged`, () => {
    const allowed: number[] = [];
    for (let b = 0; b < 256; b++) if (!has(t.triggers!, b)) allowed.push(b);
    const interesting = [...INTERESTING].map((c) => c.charCodeAt(0)).filter((b) => !has(t.triggers!, b));
    const rnd = mulberry32(0x7419 ^ t.name.length);
    const inputs = FIXED.filter((s) => [...s].every((c) => !has(t.triggers!, c.charCodeAt(0))));
    for (let i = 0; i < 20000; i++) {
      const len = Math.floor(rnd() * 40);
      let s = '';
      for (let k = 0; k < len; k++) {
        const pool = rnd() < 0.7 && interesting.length > 0 ? interesting : allowed;
        s += String.fromCharCode(pool[Math.floor(rnd() * pool.length)]!);
      }
      inputs.push(s);
    }
    for (const input of inputs) assert.equal(t.transform(input), input, `${t.name}(${JSON.stringify(input)})`);
  });
}
