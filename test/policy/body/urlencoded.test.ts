import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequestBody, parseUrlencodedCounting } from '../../../src/policy/body/index.js';

const form = (body: string, maxArgs?: number) =>
  parseRequestBody('URLENCODED', body, 'application/x-www-form-urlencoded', maxArgs === undefined ? {} : { maxArgs });

describe('URLENCODED', () => {
  const rows: Array<[body: string, args: Array<[string, string]>, why: string]> = [
    ['a=1&b=2', [['a', '1'], ['b', '2']], 'pairs'],
    ['a=1+2&b=%41%42', [['a', '1 2'], ['b', 'AB']], 'plus and percent decoding'],
    ['a=%zz&b=%4', [['a', '%zz'], ['b', '%4']], 'invalid escapes stay'],
    ['flag&x=1', [['flag', ''], ['x', '1']], 'name without = has an empty value'],
    ['a=', [['a', '']], 'empty value'],
    ['a=1&', [['a', '1']], 'trailing separator adds nothing'],
    ['a&&b', [['a', ''], ['', ''], ['b', '']], 'empty segment is an argument with an empty name (v2)'],
    ['=v', [['', 'v']], 'empty name'],
    ['a=b=c', [['a', 'b=c']], 'only the first = splits'],
    ['a=1;b=2', [['a', '1;b=2']], 'semicolon is not a separator by default'],
    ['%61%3d=%26', [['a=', '&']], 'encoded = and & in names and values'],
    ['n=\xff\0', [['n', '\xff\0']], 'raw bytes kept'],
  ];
  for (const [body, args, why] of rows) {
    test(why, () => {
      const r = form(body);
      assert.equal(r.error, null);
      assert.deepEqual(r.args, args);
      assert.equal(r.multipart, null);
    });
  }

  test('arguments past maxArgs are skipped', () => {
    assert.deepEqual(form('a=1&b=2&c=3', 2).args, [['a', '1'], ['b', '2']]);
  });

  test('invalid escapes are counted for URLENCODED_ERROR', () => {
    assert.equal(parseUrlencodedCounting('a=%zz&%g=1&c=%41', {}).invalidEncodings, 2);
  });

  test('1 MB of names without values stays linear', () => {
    const started = Date.now();
    const r = form('a&'.repeat(500000) + 'z=1', 1000000);
    assert.ok(Date.now() - started < 3000);
    assert.equal(r.args.length, 500001);
    assert.deepEqual(r.args[500000], ['z', '1']);
  });

  test('1 MB body in bounded time', () => {
    const body = 'k=v%41+x&'.repeat(120000);
    const started = Date.now();
    const r = form(body, 200000);
    assert.ok(Date.now() - started < 3000);
    assert.equal(r.args.length, 120000);
    assert.deepEqual(r.args[0], ['k', 'vA x']);
  });
});
