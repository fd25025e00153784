import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { getTransformation, transformations } from '../../../src/policy/transformations/index.js';
import { ALL_BYTES } from './table.js';
import { testNeeding } from '../prerequisites.js';

const CRS_RULES = '/usr/share/modsecurity-crs/rules';
const CRS_SETUP = '/etc/modsecurity/crs/crs-setup.conf';

/** Every `t:name` in action lists of the CRS files on this machine (comment lines skipped). */
function crsTransformationNames(): Set<string> {
  const files: string[] = [];
  if (existsSync(CRS_RULES)) {
    for (const f of readdirSync(CRS_RULES)) if (f.endsWith('.conf')) files.push(join(CRS_RULES, f));
  }
  if (existsSync(CRS_SETUP)) files.push(CRS_SETUP);
  const names = new Set<string>();
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*#/.test(line)) continue;
      for (const m of line.matchAll(/(?:^|[",\s])t:([A-Za-z0-9]+)/g)) names.add(m[1]!);
    }
  }
  return names;
}

describe('transformation registry', () => {
  testNeeding('every t: name used by the installed CRS is registered', { 'modsecurity-crs': existsSync(CRS_RULES) }, () => {
    const names = crsTransformationNames();
    assert.ok(names.has('urlDecodeUni'), 'the scan finds CRS transformations');
    const missing = [...names].filter((n) => getTransformation(n) === undefined);
    assert.deepEqual(missing, []);
  });

  test('names from the brief and v2 all resolve, case-insensitively', () => {
    const expected = [
      'none', 'lowercase', 'uppercase', 'urlDecode', 'urlDecodeUni', 'urlEncode', 'htmlEntityDecode', 'jsDecode',
      'cssDecode', 'escapeSeqDecode', 'removeNulls', 'replaceNulls', 'removeWhitespace', 'compressWhitespace',
      'replaceComments', 'removeComments', 'removeCommentsChar', 'cmdLine', 'normalisePath', 'normalizePath',
      'normalisePathWin', 'normalizePathWin', 'base64Decode', 'base64DecodeExt', 'base64Encode', 'hexDecode',
      'hexEncode', 'utf8toUnicode', 'length', 'trim', 'trimLeft', 'trimRight', 'sha1', 'md5', 'sqlHexDecode',
      'parityEven7bit', 'parityOdd7bit', 'parityZero7bit',
    ];
    for (const name of expected) {
      assert.ok(getTransformation(name), name);
      assert.ok(getTransformation(name.toUpperCase()), name.toUpperCase());
      assert.ok(transformations.has(name.toLowerCase()), `keyed by lower case: ${name}`);
    }
    assert.equal(getTransformation('Utf8toUnicode'), getTransformation('utf8tounicode'));
    assert.equal(getTransformation('noSuchTransformation'), undefined);
  });

  test('none is the identity', () => {
    assert.equal(getTransformation('none')!.transform(ALL_BYTES), ALL_BYTES);
  });
});

describe('every transformation on hostile input', () => {
  const samples = [
    '',
    ALL_BYTES,
    '%', '%u', '%u12', '&#', '&#x', '\\', '\\u', '\\x', '/*', '<!--', '0x', '../', '\\..\\', '=', '\xff\xfe\xfd',
    '%'.repeat(1000), '&#'.repeat(500), '\\'.repeat(1001), '/..'.repeat(300), '\xc3'.repeat(99),
  ];
  for (const [key, spec] of transformations) {
    test(`${key} never throws and returns a byte string`, () => {
      for (const s of samples) {
        const out = spec.transform(s);
        assert.equal(typeof out, 'string');
        for (let i = 0; i < out.length; i++) assert.ok(out.charCodeAt(i) <= 0xff, `${key}: code unit > 0xff`);
      }
    });
  }

  test('returns the very same string when nothing changes', () => {
    const clean = 'plain text 123';
    for (const name of ['lowercase', 'urlDecode', 'urlDecodeUni', 'htmlEntityDecode', 'jsDecode', 'cssDecode',
      'escapeSeqDecode', 'removeNulls', 'replaceNulls', 'compressWhitespace', 'replaceComments', 'removeComments',
      'removeCommentsChar', 'cmdLine', 'normalisePath', 'utf8toUnicode', 'trim', 'sqlHexDecode', 'parityZero7bit']) {
      assert.ok(Object.is(getTransformation(name)!.transform(clean), clean), name);
    }
  });

  test('1 MB inputs run in bounded time', () => {
    const unit = 'a%41&#x41;\\x41 /*c*/ ../\xc3\xa9\0\t';
    const big = unit.repeat(Math.ceil((1 << 20) / unit.length));
    for (const [key, spec] of transformations) {
      const started = process.hrtime.bigint();
      spec.transform(big);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // Generous bound for a shared 2-core machine; a quadratic algorithm would take minutes.
      assert.ok(ms < 2000, `${key} took ${ms.toFixed(0)} ms on 1 MB`);
    }
  });
});

describe('every byte 0x00-0xFF', () => {
  const t = (name: string, input: string) => getTransformation(name)!.transform(input);
  const bytes = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));

  test('lowercase and uppercase touch only ASCII letters', () => {
    assert.deepEqual(bytes(t('lowercase', ALL_BYTES)), bytes(ALL_BYTES).map((b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b)));
    assert.deepEqual(bytes(t('uppercase', ALL_BYTES)), bytes(ALL_BYTES).map((b) => (b >= 0x61 && b <= 0x7a ? b - 32 : b)));
  });

  test('removeWhitespace drops exactly \\t \\n \\v \\f \\r space and NBSP', () => {
    const dropped = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]);
    assert.deepEqual(bytes(t('removeWhitespace', ALL_BYTES)), bytes(ALL_BYTES).filter((b) => !dropped.has(b)));
  });

  test('removeNulls / replaceNulls / parityZero7bit', () => {
    assert.equal(t('removeNulls', ALL_BYTES), ALL_BYTES.slice(1));
    assert.equal(t('replaceNulls', ALL_BYTES), ' ' + ALL_BYTES.slice(1));
    assert.deepEqual(bytes(t('parityZero7bit', ALL_BYTES)), bytes(ALL_BYTES).map((b) => b & 0x7f));
  });

  test('decoders leave bytes without escape characters alone', () => {
    const plain = ALL_BYTES.replace(/[%+&\\\0]/g, '');
    for (const name of ['urlDecode', 'urlDecodeUni', 'htmlEntityDecode', 'jsDecode', 'cssDecode', 'escapeSeqDecode']) {
      assert.equal(t(name, plain), plain, name);
    }
  });

  test('utf8toUnicode keeps ASCII and turns each 2-byte sequence into %uXXXX', () => {
    for (let cp = 0x80; cp < 0x800; cp += 0x3f) {
      const enc = Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
      assert.equal(t('utf8toUnicode', 'a' + enc + 'b'), `a%u${cp.toString(16).padStart(4, '0')}b`);
    }
  });
});
