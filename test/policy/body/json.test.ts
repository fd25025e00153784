import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequestBody } from '../../../src/policy/body/index.js';

function json(body: string, limits: { maxArgs?: number; maxJsonDepth?: number } = {}) {
  return parseRequestBody('JSON', body, 'application/json', limits);
}

describe('JSON: v2 argument naming', () => {
  const rows: Array<[body: string, args: Array<[string, string]>, why: string]> = [
    ['{"a":"1","b":2}', [['a', '1'], ['b', '2']], 'flat object'],
    ['{"a":{"b":{"c":"x"}}}', [['a.b.c', 'x']], 'nested keys joined with dots'],
    ['{"a":[1,2]}', [['a.a', '1'], ['a.a', '2']], 'array items repeat the key (v2 2.9.x)'],
    ['[1,"x"]', [['array.array', '1'], ['array.array', 'x']], 'top-level array is named "array"'],
    ['[1,[2]]', [['array.array', '1'], ['array.array.array', '2']], 'nested arrays'],
    ['{"a":[{"b":1},{"b":2}]}', [['a.a.b', '1'], ['a.a.b', '2']], 'objects in an array'],
    ['{"a":{"b":1},"c":2}', [['a.b', '1'], ['c', '2']], 'prefix restored after an object'],
    ['{"a":null,"t":true,"f":false}', [['a', ''], ['t', 'true'], ['f', 'false']], 'null is empty, booleans as text'],
    ['{"n":-1.5e+3,"z":0}', [['n', '-1.5e+3'], ['z', '0']], 'numbers keep their source text'],
    ['"top"', [['', 'top']], 'top-level scalar has the empty name'],
    ['{"a.b":{"c":1},"d":2}', [['a.b.c', '1'], ['a.d', '2']], 'v2 cuts the prefix at the last dot, even inside a key'],
    ['{"":1}', [['', '1']], 'empty key'],
    ['{"a\\u0000b":"x\\u0000y"}', [['a', 'x\0y']], 'keys end at NUL as C strings in v2; values keep it'],
    [' \t\n{ "a" : "b" }\r\n ', [['a', 'b']], 'whitespace everywhere'],
  ];
  for (const [body, args, why] of rows) {
    test(`${why}: ${body}`, () => {
      const r = json(body);
      assert.equal(r.error, null);
      assert.deepEqual(r.args, args);
    });
  }
});

describe('JSON: string decoding as yajl', () => {
  const rows: Array<[body: string, value: string, why: string]> = [
    ['{"a":"\\"\\\\\\/\\b\\f\\n\\r\\t"}', '"\\/\b\f\n\r\t', 'simple escapes'],
    ['{"a":"\\u0041\\u00e9"}', 'A\xc3\xa9', '\\u written as UTF-8 bytes'],
    ['{"a":"\\ud83d\\ude00"}', '\xf0\x9f\x98\x80', 'surrogate pair combined'],
    ['{"a":"\\ud83dxy"}', '?y', 'lone high surrogate: "?" and the next byte skipped'],
    ['{"a":"\\u0000"}', '\0', 'NUL kept'],
    ['{"a":"\xc3\xa9"}', '\xc3\xa9', 'raw UTF-8 passes through'],
  ];
  for (const [body, value, why] of rows) {
    test(why, () => {
      const r = json(body);
      assert.equal(r.error, null);
      assert.deepEqual(r.args, [['a', value]]);
    });
  }
});

describe('JSON: errors keep the arguments already added', () => {
  const rows: Array<[body: string, error: string, args: Array<[string, string]>, why?: string]> = [
    ['{"a":1,}', 'JSON parsing error: parse error: invalid object key (must be a string)', [['a', '1']]],
    ['{"a":1', 'JSON parser error: parse error: premature EOF', [['a', '1']]],
    ['{"a":', 'JSON parser error: parse error: premature EOF', []],
    ['{"a":1} x', 'JSON parsing error: parse error: trailing garbage', [['a', '1']]],
    ['{"a" 1}', "JSON parsing error: parse error: object key and value must be separated by a colon (':')", []],
    ['{"a":1 "b":2}', "JSON parsing error: parse error: after key and value, inside map, I expect ',' or '}'", [['a', '1']]],
    ['[1 2]', "JSON parsing error: parse error: after array element, I expect ',' or ']'", [['array.array', '1']]],
    ['{a:1}', 'JSON parsing error: lexical error: invalid char in json text.', [], 'yajl lexes before it checks the grammar'],
    ['{1:1}', 'JSON parsing error: parse error: invalid object key (must be a string)', []],
    ['[1 "\\q"]', "JSON parsing error: lexical error: inside a string, '\\' occurs before a character which it may not.", [['array.array', '1']]],
    ['[1x]', 'JSON parsing error: lexical error: invalid char in json text.', [['array.array', '1']]],
    ['{"a":tru}', 'JSON parsing error: lexical error: invalid string in json text.', []],
    ['{"a":-}', 'JSON parsing error: lexical error: malformed number, a digit is required after the minus sign.', []],
    ['{"a":1.}', 'JSON parsing error: lexical error: malformed number, a digit is required after the decimal point.', []],
    ['{"a":1e}', 'JSON parsing error: lexical error: malformed number, a digit is required after the exponent.', []],
    ['{"a":"\\q"}', "JSON parsing error: lexical error: inside a string, '\\' occurs before a character which it may not.", []],
    ['{"a":"\\u12g4"}', "JSON parsing error: lexical error: invalid (non-hex) character occurs after '\\u' inside string.", []],
    ['{"a":"\x01"}', 'JSON parsing error: lexical error: invalid character inside string.', []],
    ['{"a":"\xff"}', 'JSON parsing error: lexical error: invalid bytes in UTF8 string.', []],
    ['{"a":1} // c', 'JSON parsing error: parse error: trailing garbage', [['a', '1']]],
    ['{"a":/* c */1}', 'JSON parsing error: lexical error: probable comment found in input text, comments are not enabled.', []],
    ['{"a":#}', 'JSON parsing error: lexical error: invalid char in json text.', []],
    ['[]]', 'JSON parsing error: parse error: trailing garbage', []],
    ['{"a":"open', 'JSON parser error: parse error: premature EOF', []],
  ];
  for (const [body, error, args, why] of rows) {
    test(why ? `${body} — ${why}` : body, () => {
      const r = json(body);
      assert.equal(r.error, error);
      assert.deepEqual(r.args, args);
    });
  }
});

describe('JSON: limits', () => {
  test('depth limit (SecRequestBodyJsonDepthLimit)', () => {
    assert.equal(json('{"a":{"b":{"c":1}}}', { maxJsonDepth: 1 }).error, 'JSON parsing error: JSON depth limit exceeded');
    assert.equal(json('{"a":{"b":1}}', { maxJsonDepth: 1 }).error, null, 'the top-level object does not count');
    assert.equal(json('[[1]]', { maxJsonDepth: 1 }).error, 'JSON parsing error: JSON depth limit exceeded');
  });

  test('deep nesting beyond the default limit fails without recursion', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    assert.equal(json(deep).error, 'JSON parsing error: JSON depth limit exceeded');
    const ok = '['.repeat(5000) + '1' + ']'.repeat(5000);
    const r = json(ok);
    assert.equal(r.error, null);
    assert.equal(r.args.length, 1);
  });

  test('argument limit sets REQBODY_ERROR as v2 does for JSON', () => {
    const r = json('[1,2,3,4]', { maxArgs: 2 });
    assert.equal(r.error, 'JSON parsing error: parse error: client cancelled parse via callback return value');
    assert.equal(r.args.length, 2);
  });

  test('1 MB of JSON in bounded time', () => {
    const body = '{"k":[' + Array.from({ length: 60000 }, (_, i) => `"v${i}\\u0041"`).join(',') + ']}';
    const started = Date.now();
    const r = json(body, { maxArgs: 100000 });
    assert.ok(Date.now() - started < 3000);
    assert.equal(r.error, null);
    assert.equal(r.args.length, 60000);
  });

  test('empty body: no processor run, no error', () => {
    assert.deepEqual(json(''), { args: [], files: [], error: null, multipart: null, xmlText: null, xmlAttributes: null });
  });
});
