import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createUrlDecodeUni, parseUnicodeMapping, urlDecodeNonStrict } from '../../../src/policy/transformations/index.js';
import { ALL_BYTES, table } from './table.js';

describe('urlDecode', () => {
  table('urlDecode', [
    ['', ''],
    ['abc', 'abc', 'unchanged'],
    ['a+b', 'a b', 'plus is space'],
    ['%41%42%43', 'ABC'],
    ['%6a%6A', 'jj', 'both hex cases'],
    ['%00', '\0', 'NUL decodes'],
    ['%zz', '%zz', 'invalid escape kept'],
    ['%4', '%4', 'truncated escape kept'],
    ['%', '%'],
    ['100%', '100%'],
    ['%%41', '%A', 'first % invalid, second valid'],
    ['%u0041', '%u0041', 'no %u in plain urlDecode'],
    ['%2541', '%41', 'decodes once only'],
    ['%ff%FE', '\xff\xfe', 'high bytes'],
  ]);
  test('counts invalid escapes', () => {
    assert.deepEqual(urlDecodeNonStrict('%zz%41%4'), { value: '%zzA%4', invalid: 2 });
  });
});

describe('urlDecodeUni', () => {
  table('urlDecodeUni', [
    ['', ''],
    ['plain', 'plain'],
    ['a+b%20c', 'a b c'],
    ['%u0041', 'A', 'low byte'],
    ['%U0041', 'A', 'upper-case U accepted'],
    ['%u1234', '\x34', 'high byte ignored without a unicode map'],
    ['%uff01', '!', 'full-width ! maps to ASCII'],
    ['%uFF5E', '\x7e', 'full-width ~'],
    ['%uff5f', '\x5f', 'outside the full-width ASCII range: low byte only'],
    ['%uff00', '\0', 'zero low byte is not shifted'],
    ['%u004', '%u004', 'too short: %u kept'],
    ['%u00zz', '%u00zz', 'invalid hex: %u kept'],
    ['%uzz%41', '%uzzA'],
    ['%zz', '%zz'],
    ['%2f', '/'],
  ]);
  test('SecUnicodeMapFile table takes precedence over the low byte', () => {
    const map = parseUnicodeMapping('1252 (ANSI)\n\n20127 (US-ASCII)\n00a0:20 ff01:21 0100:41\n\n437 (OEM)\n0100:42\n', 20127);
    const uni = createUrlDecodeUni(map);
    assert.equal(uni.transform('%u0100%u00a0%uff01%u1234'), 'A !\x34');
  });
});

describe('urlEncode', () => {
  table('urlEncode', [
    ['', ''],
    ['abcXYZ019*', 'abcXYZ019*', 'unreserved for v2'],
    ['a b', 'a+b'],
    ['a/b?c=d&e', 'a%2fb%3fc%3dd%26e', 'lower-case hex'],
    ['-._~', '%2d%2e%5f%7e', 'v2 encodes even - . _ ~'],
    ['\0\xff', '%00%ff'],
  ]);
  test('round trip of every byte through urlDecode', async () => {
    const { getTransformation } = await import('../../../src/policy/transformations/index.js');
    const enc = getTransformation('urlEncode')!.transform(ALL_BYTES);
    assert.equal(getTransformation('urlDecode')!.transform(enc), ALL_BYTES);
    assert.equal(getTransformation('urlDecodeUni')!.transform(enc), ALL_BYTES);
  });
});
