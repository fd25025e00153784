import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequestBody } from '../../../src/policy/body/index.js';

const xml = (body: string) => parseRequestBody('XML', body, 'text/xml', {});
const FAIL = 'XML parser error: XML: Failed parsing document.';

describe('XML: text and attributes', () => {
  test('XML:/* is the text content of the root element', () => {
    const r = xml('<?xml version="1.0"?>\n<root><a>one</a> <b x="1">two<![CDATA[<three>]]></b><!-- no --><?pi no?></root>\n');
    assert.equal(r.error, null);
    assert.deepEqual(r.xmlText, ['one two<three>']);
    assert.deepEqual(r.xmlAttributes, ['1']);
  });

  test('entities and character references are decoded, to UTF-8 bytes', () => {
    const r = xml('<r a="&lt;&#x41;&quot;">&amp;&#233;&#x1F600;&apos;</r>');
    assert.equal(r.error, null);
    assert.deepEqual(r.xmlText, ['&\xc3\xa9\xf0\x9f\x98\x80\'']);
    assert.deepEqual(r.xmlAttributes, ['<A"']);
  });

  test('internal DTD entities expand; namespace declarations are not attributes', () => {
    const r = xml('<!DOCTYPE r [<!ENTITY e "v&#65;l"><!ELEMENT r ANY>]><r xmlns="urn:x" xmlns:p="urn:p" p:k="1">&e;&e;</r>');
    assert.equal(r.error, null);
    assert.deepEqual(r.xmlText, ['vAlvAl']);
    assert.deepEqual(r.xmlAttributes, ['1']);
  });

  test('external entities are never loaded', () => {
    const r = xml('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>[&x;]</r>');
    assert.equal(r.error, null);
    assert.deepEqual(r.xmlText, ['[]']);
  });

  test('line endings and attribute whitespace are normalised as libxml2 does', () => {
    const r = xml('<r a="x\r\ny\tz">1\r\n2\r3</r>');
    assert.deepEqual(r.xmlText, ['1\n2\n3']);
    assert.deepEqual(r.xmlAttributes, ['x y z']);
  });

  test('ISO-8859-1 documents are handed on as UTF-8', () => {
    const r = xml('<?xml version="1.0" encoding="ISO-8859-1"?><r>\xe9</r>');
    assert.equal(r.error, null);
    assert.deepEqual(r.xmlText, ['\xc3\xa9']);
  });

  test('empty root element gives one empty value', () => {
    assert.deepEqual(xml('<r/>').xmlText, ['']);
  });
});

describe('XML: malformed documents', () => {
  const bad: Array<[string, string]> = [
    ['<a><b></a>', 'mismatched end tag'],
    ['<a>', 'unclosed element'],
    ['text only', 'no root element'],
    ['<a></a><b></b>', 'two roots'],
    ['<a x=1></a>', 'unquoted attribute'],
    ['<a x="1" x="2"></a>', 'duplicate attribute'],
    ['<a x="<"></a>', '< in attribute'],
    ['<a>&nope;</a>', 'undeclared entity'],
    ['<a>& b</a>', 'bare ampersand'],
    ['<a>&#0;</a>', 'invalid character reference'],
    ['<a>]]></a>', ']]> in text'],
    ['<a><!-- a -- b --></a>', 'double hyphen in comment'],
    [' <?xml version="1.0"?><a/>', 'XML declaration not at the start'],
    ['<a>\xff</a>', 'invalid UTF-8'],
    ['<a x="1"y="2"/>', 'attributes without whitespace'],
    ['<!DOCTYPE a [<!ENTITY a "&a;">]><a>&a;</a>', 'entity loop'],
  ];
  for (const [body, why] of bad) {
    test(why, () => {
      assert.equal(xml(body).error, FAIL);
    });
  }

  test('text parsed before the error is still exposed (libxml2 keeps the partial tree)', () => {
    const r = xml('<r>kept<b>also</r>');
    assert.equal(r.error, FAIL);
    assert.deepEqual(r.xmlText, ['keptalso']);
  });

  test('billion laughs is refused, not expanded', () => {
    let dtd = '<!ENTITY l0 "lollollollollollollollollollol">';
    for (let i = 1; i < 10; i++) dtd += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`;
    const started = Date.now();
    const r = xml(`<!DOCTYPE r [${dtd}]><r>&l9;</r>`);
    assert.equal(r.error, FAIL);
    assert.ok(Date.now() - started < 3000);
  });

  test('deep nesting does not recurse', () => {
    const r = xml('<a>'.repeat(100000) + 'x' + '</a>'.repeat(100000));
    assert.equal(r.error, null);
    assert.deepEqual(r.xmlText, ['x']);
  });

  test('empty body: no processor run, no error', () => {
    const r = xml('');
    assert.equal(r.error, null);
    assert.deepEqual(r.xmlText, []);
  });
});
