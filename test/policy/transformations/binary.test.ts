import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { getTransformation } from '../../../src/policy/transformations/index.js';
import { ALL_BYTES, table } from './table.js';

describe('base64Decode', () => {
  table('base64Decode', [
    ['', ''],
    ['SGVsbG8=', 'Hello'],
    ['SGVsbG8', 'Hello', 'padding optional'],
    ['SGVs bG8=', 'Hel', 'stops at the first non-alphabet byte'],
    ['Q', '', 'a lone sextet decodes to nothing'],
    ['QUJD', 'ABC'],
    ['QUJDR', 'ABC', 'trailing lone sextet ignored'],
    ['!!!', ''],
    ['AA==', '\0'],
  ]);
});

describe('base64DecodeExt', () => {
  table('base64DecodeExt', [
    ['', ''],
    ['SGVsbG8=', 'Hello'],
    ['SGV sbG8', 'Hello', 'skips whitespace'],
    ['S.G-V_s*b!G8', 'Hello', 'skips any byte outside the alphabet'],
    ['Q=', '', "'=' after a lone sextet gives nothing"],
    ['Q==', '', 'the second = still fails (i % 4 == 1)'],
    ['SGVsbG8\0SGVsbG8', 'Hello', 'stops at NUL'],
  ]);
});

describe('base64Encode', () => {
  table('base64Encode', [['', ''], ['Hello', 'SGVsbG8='], ['\0\xff', 'AP8=']]);
  test('every byte survives base64Encode then base64Decode', () => {
    const enc = getTransformation('base64Encode')!.transform(ALL_BYTES);
    assert.equal(getTransformation('base64Decode')!.transform(enc), ALL_BYTES);
    assert.equal(getTransformation('base64DecodeExt')!.transform(enc), ALL_BYTES);
  });
});

describe('hexEncode / hexDecode', () => {
  table('hexEncode', [['', ''], ['AB', '4142'], ['\0\xff', '00ff']]);
  table('hexDecode', [
    ['', ''],
    ['414243', 'ABC'],
    ['4a4A', 'JJ'],
    ['414', 'A', 'odd trailing digit dropped'],
    ['zz', '\x53', 'no validation: v2 x2c arithmetic on non-hex bytes'],
  ]);
  table('hexEncode', [
    ['\x14'.repeat(32), '14'.repeat(32), '32 bytes: the longest input encoded from the table'],
    ['\x14'.repeat(33), '14'.repeat(33), '33 bytes: encoded through Buffer'],
    ['\u0141', '41', 'a char above 0xFF keeps its low byte (as latin1 Buffer conversion)'],
  ]);
  test('hexEncode: table and Buffer paths agree on every byte at every length around the switch', () => {
    const hexEncode = getTransformation('hexEncode')!;
    for (let len = 0; len <= 40; len++) {
      for (let start = 0; start < 256; start += 7) {
        const input = ALL_BYTES.slice(start, start + len).padEnd(len, '\xff');
        assert.equal(hexEncode.transform(input), Buffer.from(input, 'latin1').toString('hex'), `length ${len}, from byte ${start}`);
      }
    }
  });
  test('every byte survives hexEncode then hexDecode', () => {
    const enc = getTransformation('hexEncode')!.transform(ALL_BYTES);
    assert.equal(enc.length, 512);
    assert.equal(getTransformation('hexDecode')!.transform(enc), ALL_BYTES);
  });
});

describe('sqlHexDecode', () => {
  table('sqlHexDecode', [
    ['', ''],
    ['select 1', 'select 1'],
    ['0x414243', 'ABC'],
    ['0X41', 'A'],
    ['x0x41y', 'xAy'],
    ['0x414', 'A4', 'odd digit stays as text'],
    ['0x4', '0x4', 'needs two hex digits'],
    ['0xzz', '0xzz'],
    ['00x41', '0A'],
    ['0x41\0tail', 'A', 'ends at NUL'],
  ]);
});

describe('digests', () => {
  table('sha1', [['abc', createHash('sha1').update('abc').digest().toString('latin1')]]);
  table('md5', [['', createHash('md5').update('').digest().toString('latin1')]]);
  test('sha1 and md5 of non-ASCII bytes hash the bytes, not UTF-8', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x80]);
    assert.equal(getTransformation('sha1')!.transform(bytes.toString('latin1')), createHash('sha1').update(bytes).digest().toString('latin1'));
    assert.equal(getTransformation('sha1')!.transform('').length, 20);
    assert.equal(getTransformation('md5')!.transform('x').length, 16);
  });
  test('remembered digests: repeated, distinct and long inputs give the digest of each input', () => {
    const sha1 = getTransformation('sha1')!;
    const md5 = getTransformation('md5')!;
    const inputs = ['Mozilla/5.0', 'Mozilla/5.0', 'curl/8', 'Mozilla/5.0', 'x'.repeat(5000), 'x'.repeat(5000) + 'y'];
    // More distinct inputs than the memo holds, so it is also cleared and refilled on the way.
    for (let i = 0; i < 1500; i++) inputs.push(`agent-${i % 1100}`);
    for (const input of inputs) {
      assert.equal(sha1.transform(input), createHash('sha1').update(input, 'latin1').digest().toString('latin1'), input.slice(0, 20));
      assert.equal(md5.transform(input), createHash('md5').update(input, 'latin1').digest().toString('latin1'), input.slice(0, 20));
    }
  });
});

describe('length', () => {
  table('length', [['', '0'], ['abc', '3'], ['\xff\0', '2']]);
});

describe('parity', () => {
  table('parityZero7bit', [['', ''], ['\xc1\x41', 'AA']]);
  // v2 counts all 8 bits: 'A' = 0x41 has two set (even), 'C' = 0x43 three (odd), 0xC3 four, 0xC1 three.
  table('parityEven7bit', [['A', 'A'], ['C', '\xc3'], ['\xc3', 'C'], ['\xc1', '\xc1']]);
  table('parityOdd7bit', [['A', '\xc1'], ['C', 'C'], ['\xc1', 'A'], ['\xc3', '\xc3']]);
});

describe('decoders writing into the shared work buffer', () => {
  // Random inputs of mixed lengths one after another: a decoder that read a stale byte of the shared
  // buffer (left by a longer earlier value) would differ from Node's own decoders here.
  function* inputs(alphabet: string, seed: number): Generator<string> {
    let a = seed;
    const rnd = (): number => {
      a = (a * 1103515245 + 12345) >>> 0;
      return a / 4294967296;
    };
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(rnd() * (i % 3 === 0 ? 300 : 40));
      let s = '';
      for (let k = 0; k < len; k++) s += alphabet[Math.floor(rnd() * alphabet.length)]!;
      yield s;
    }
  }
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  test('base64Decode: the alphabet prefix as Node decodes it', () => {
    const t = getTransformation('base64Decode')!;
    for (const s of inputs(B64 + B64 + ' =.-_\0\xff', 1)) {
      const prefix = /^[A-Za-z0-9+/]*/.exec(s)![0];
      assert.equal(t.transform(s), Buffer.from(prefix, 'base64').toString('latin1'), JSON.stringify(s));
    }
  });
  test('base64DecodeExt: every alphabet byte up to a NUL, as Node decodes them (no =)', () => {
    const t = getTransformation('base64DecodeExt')!;
    for (const s of inputs(B64 + ' .-_\n\xff\0', 2)) {
      const upToNul = s.split('\0')[0]!;
      const kept = upToNul.replace(/[^A-Za-z0-9+/]/g, '');
      assert.equal(t.transform(s), Buffer.from(kept, 'base64').toString('latin1'), JSON.stringify(s));
    }
  });
  test('hexDecode: hex digit strings as Node decodes them (odd trailing digit dropped)', () => {
    const t = getTransformation('hexDecode')!;
    for (const s of inputs('0123456789abcdefABCDEF', 3)) {
      assert.equal(t.transform(s), Buffer.from(s.slice(0, s.length & ~1), 'hex').toString('latin1'), JSON.stringify(s));
    }
  });
});
