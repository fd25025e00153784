import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type MultipartFlags, parseRequestBody } from '../../../src/policy/body/index.js';

const CT = 'multipart/form-data; boundary=XyZ';

function mp(body: string, contentType = CT, maxArgs?: number) {
  return parseRequestBody('MULTIPART', body, contentType, maxArgs === undefined ? {} : { maxArgs });
}

const FLAG_NAMES = [
  'MULTIPART_STRICT_ERROR', 'MULTIPART_UNMATCHED_BOUNDARY', 'MULTIPART_BOUNDARY_QUOTED', 'MULTIPART_BOUNDARY_WHITESPACE',
  'MULTIPART_DATA_BEFORE', 'MULTIPART_DATA_AFTER', 'MULTIPART_HEADER_FOLDING', 'MULTIPART_LF_LINE',
  'MULTIPART_MISSING_SEMICOLON', 'MULTIPART_INVALID_QUOTING', 'MULTIPART_INVALID_PART', 'MULTIPART_INVALID_HEADER_FOLDING',
  'MULTIPART_FILE_LIMIT_EXCEEDED', 'MULTIPART_CRLF_LF_LINES',
] as const;

/** The flags that are 1. */
function raised(flags: MultipartFlags | null): string[] {
  assert.ok(flags);
  return FLAG_NAMES.filter((f) => flags[f] === 1);
}

const GOOD =
  '--XyZ\r\n' +
  'Content-Disposition: form-data; name="a"\r\n' +
  '\r\n' +
  'hello\r\nworld\r\n' +
  '--XyZ\r\n' +
  'Content-Disposition: form-data; name="up"; filename="shell.php"\r\n' +
  'Content-Type: application/x-php\r\n' +
  '\r\n' +
  '<?php system($_GET[1]); ?>\r\n' +
  '--XyZ\r\n' +
  'Content-Disposition: form-data; name=b\r\n' +
  '\r\n' +
  '\r\n' +
  '--XyZ--\r\n';

describe('MULTIPART: valid bodies', () => {
  test('text parts become args, file parts become files (content is not an arg)', () => {
    const r = mp(GOOD);
    assert.equal(r.error, null);
    assert.deepEqual(r.args, [['a', 'hello\r\nworld'], ['b', '']]);
    assert.deepEqual(r.files, [{ field: 'up', filename: 'shell.php', size: 26, contentType: 'application/x-php' }]);
    assert.deepEqual(raised(r.multipart), []);
    assert.deepEqual(r.multipart!.names, ['a', 'up', 'b']);
    assert.deepEqual(r.multipart!.filenames, ['shell.php']);
  });

  test('part headers are kept per part name (MULTIPART_PART_HEADERS)', () => {
    const r = mp(GOOD);
    assert.deepEqual(r.multipart!.partHeadersByName, [
      ['a', 'Content-Disposition: form-data; name="a"'],
      ['up', 'Content-Disposition: form-data; name="up"; filename="shell.php"'],
      ['up', 'Content-Type: application/x-php'],
      ['b', 'Content-Disposition: form-data; name=b'],
    ]);
    assert.equal(r.multipart!.partHeaders.length, 4);
  });

  test('a value longer than the 4096-byte line buffer is kept whole', () => {
    const big = 'x'.repeat(10000) + '\r\n' + 'y'.repeat(5000);
    const r = mp(`--XyZ\r\nContent-Disposition: form-data; name="big"\r\n\r\n${big}\r\n--XyZ--\r\n`);
    assert.equal(r.error, null);
    assert.equal(r.args[0]![1], big);
  });

  test('binary bytes survive in values and file sizes count bytes', () => {
    const bin = '\0\xff\r\x80';
    const r = mp(`--XyZ\r\nContent-Disposition: form-data; name="v"\r\n\r\n${bin}\r\n--XyZ\r\nContent-Disposition: form-data; name="f"; filename="b.bin"\r\n\r\n${bin}\n\r\n--XyZ--\r\n`);
    assert.equal(r.error, null);
    assert.deepEqual(r.args, [['v', bin]]);
    assert.equal(r.files[0]!.size, bin.length + 1);
  });

  test('final boundary without a line ending is accepted', () => {
    const r = mp('--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--');
    assert.equal(r.error, null);
    assert.deepEqual(r.args, [['a', '1']]);
  });

  test('args past maxArgs are skipped', () => {
    let body = '';
    for (let i = 0; i < 5; i++) body += `--XyZ\r\nContent-Disposition: form-data; name="p${i}"\r\n\r\n${i}\r\n`;
    const r = mp(body + '--XyZ--\r\n', CT, 3);
    assert.deepEqual(r.args.map(([n]) => n), ['p0', 'p1', 'p2']);
  });
});

describe('MULTIPART: each flag from a crafted body', () => {
  const part = 'Content-Disposition: form-data; name="a"\r\n\r\n1\r\n';
  const cases: Array<[flag: string, body: string, contentType: string, strict: boolean]> = [
    ['MULTIPART_BOUNDARY_QUOTED', `--XyZ\r\n${part}--XyZ--\r\n`, 'multipart/form-data; boundary="XyZ"', true],
    ['MULTIPART_BOUNDARY_WHITESPACE', `--XyZ\r\n${part}--XyZ--\r\n`, 'multipart/form-data; boundary =XyZ', true],
    ['MULTIPART_MISSING_SEMICOLON', `--XyZ\r\n${part}--XyZ--\r\n`, 'multipart/form-data boundary=XyZ', true],
    ['MULTIPART_DATA_BEFORE', `preamble\r\n--XyZ\r\n${part}--XyZ--\r\n`, CT, true],
    ['MULTIPART_DATA_AFTER', `--XyZ\r\n${part}--XyZ--\r\nepilogue`, CT, true],
    ['MULTIPART_HEADER_FOLDING', `--XyZ\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\n1\r\n--XyZ--\r\n`, CT, true],
    ['MULTIPART_INVALID_QUOTING', `--XyZ\r\nContent-Disposition: form-data; name='a'\r\n\r\n1\r\n--XyZ--\r\n`, CT, true],
    ['MULTIPART_INVALID_PART', `--XyZ\r\n--XyZ\r\n${part}--XyZ--\r\n`, CT, true],
    ['MULTIPART_UNMATCHED_BOUNDARY', `--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n--other\r\n--XyZ--\r\n`, CT, false],
  ];
  for (const [flag, body, contentType, strict] of cases) {
    test(flag, () => {
      const r = mp(body, contentType);
      assert.equal(r.error, null, 'no REQBODY_ERROR');
      const expected = strict ? ['MULTIPART_STRICT_ERROR', flag] : [flag];
      assert.deepEqual(raised(r.multipart), expected.sort((x, y) => FLAG_NAMES.indexOf(x as never) - FLAG_NAMES.indexOf(y as never)));
    });
  }

  test('MULTIPART_INVALID_HEADER_FOLDING with a vertical tab', () => {
    const r = mp('--XyZ\r\nContent-Disposition: form-data;\r\n\x0bname="a"\r\n\r\n1\r\n--XyZ--\r\n');
    assert.deepEqual(raised(r.multipart), ['MULTIPART_STRICT_ERROR', 'MULTIPART_HEADER_FOLDING', 'MULTIPART_INVALID_HEADER_FOLDING']);
    assert.deepEqual(r.args, [['a', '1']]);
  });

  test('MULTIPART_LF_LINE for LF-only line endings', () => {
    const r = mp('--XyZ\nContent-Disposition: form-data; name="a"\n\n1\n--XyZ--\n');
    assert.equal(r.error, null);
    assert.deepEqual(r.args, [['a', '1']]);
    assert.deepEqual(raised(r.multipart), ['MULTIPART_STRICT_ERROR', 'MULTIPART_LF_LINE']);
  });

  test('MULTIPART_CRLF_LF_LINES for mixed line endings', () => {
    const r = mp('--XyZ\r\nContent-Disposition: form-data; name="a"\n\r\n1\r\n--XyZ--\r\n');
    assert.deepEqual(raised(r.multipart), ['MULTIPART_STRICT_ERROR', 'MULTIPART_LF_LINE', 'MULTIPART_CRLF_LF_LINES']);
  });

  test('MULTIPART_FILE_LIMIT_EXCEEDED stays 0: v2 only raises it when extracting files to disk', () => {
    let body = '';
    for (let i = 0; i < 150; i++) body += `--XyZ\r\nContent-Disposition: form-data; name="f${i}"; filename="f${i}"\r\n\r\nx\r\n`;
    const r = mp(body + '--XyZ--\r\n');
    assert.equal(r.files.length, 150);
    assert.equal(r.multipart!.MULTIPART_FILE_LIMIT_EXCEEDED, 0);
  });

  test('a name with a single quote inside double quotes is not invalid quoting (2.9.5+)', () => {
    const r = mp(`--XyZ\r\nContent-Disposition: form-data; name="a'b"\r\n\r\n1\r\n--XyZ--\r\n`);
    assert.deepEqual(raised(r.multipart), []);
    assert.deepEqual(r.args, [["a'b", '1']]);
  });
});

describe('MULTIPART: errors', () => {
  const cdErrors: Array<[what: string, contentType: string, message: string]> = [
    ['missing C-T', '', 'Multipart: Content-Type header not available.'],
    ['wrong MIME type', 'text/plain; boundary=XyZ', 'Multipart: Invalid MIME type.'],
    ['no boundary', 'multipart/form-data', 'Multipart: Boundary not found in C-T.'],
    ['upper-case boundary', 'multipart/form-data; BOUNDARY=XyZ', 'Multipart: Invalid boundary in C-T (case sensitivity).'],
    ['two boundaries', 'multipart/form-data; boundary=a; boundary=b', 'Multipart: Multiple boundary parameters in C-T.'],
    ['junk before boundary', 'multipart/form-data; x; boundary=XyZ', 'Multipart: Invalid boundary in C-T (malformed).'],
    ['no equals sign', 'multipart/form-data; boundary', 'Multipart: Invalid boundary in C-T (malformed).'],
    ['bad parameter name', 'multipart/form-data; boundaryx=XyZ', 'Multipart: Invalid boundary in C-T (parameter name).'],
    ['partial quote', 'multipart/form-data; boundary="XyZ', 'Multipart: Invalid boundary in C-T (quote).'],
    ['bad characters', 'multipart/form-data; boundary=XyZ; charset=utf-8', 'Multipart: Invalid boundary in C-T (characters).'],
    ['empty boundary', 'multipart/form-data; boundary=""', 'Multipart: Invalid boundary in C-T (empty).'],
    ['too long C-T', 'multipart/form-data; boundary=' + 'a'.repeat(1100), 'Multipart: Invalid boundary in C-T (length).'],
  ];
  for (const [what, contentType, message] of cdErrors) {
    test(`Content-Type: ${what}`, () => {
      const r = mp(GOOD, contentType);
      assert.equal(r.error, message);
      assert.deepEqual(r.args, []);
      assert.equal(r.multipart!.MULTIPART_STRICT_ERROR, 1);
    });
  }

  const bodyErrors: Array<[what: string, body: string, message: string]> = [
    ['no boundary in payload', 'just text\r\n', 'Multipart parsing error: Multipart: No boundaries found in payload.'],
    ['final boundary missing', '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n', 'Multipart parsing error: Multipart: Final boundary missing.'],
    ['missing C-D', '--XyZ\r\nContent-Type: text/plain\r\n\r\n1\r\n--XyZ--\r\n', 'Multipart parsing error: Multipart: Part missing Content-Disposition header.'],
    ['filename* is unknown to v2', '--XyZ\r\nContent-Disposition: form-data; name="a"; filename*=UTF-8\'\'x.php\r\n\r\n1\r\n--XyZ--\r\n',
      'Multipart parsing error: Multipart: Invalid Content-Disposition header (-11): form-data; name="a"; filename*=UTF-8\'\'x.php.'],
    ['not form-data', '--XyZ\r\nContent-Disposition: attachment; name="a"\r\n\r\n1\r\n--XyZ--\r\n',
      'Multipart parsing error: Multipart: Invalid Content-Disposition header (-1): attachment; name="a".'],
    ['duplicate name', '--XyZ\r\nContent-Disposition: form-data; name="a"; name="b"\r\n\r\n1\r\n--XyZ--\r\n',
      'Multipart parsing error: Multipart: Invalid Content-Disposition header (-14): form-data; name="a"; name="b".'],
    ['no name', '--XyZ\r\nContent-Disposition: form-data; filename="x"\r\n\r\n1\r\n--XyZ--\r\n',
      'Multipart parsing error: Multipart: Content-Disposition header missing name field.'],
    ['duplicate header', '--XyZ\r\nContent-Disposition: form-data; name="a"\r\ncontent-disposition: form-data; name="b"\r\n\r\n1\r\n--XyZ--\r\n',
      'Multipart parsing error: Multipart: Duplicate part header: content-disposition.'],
    ['colon missing', '--XyZ\r\nContent-Disposition form-data\r\n\r\n1\r\n--XyZ--\r\n',
      'Multipart parsing error: Multipart: Invalid part header (colon missing): Content-Disposition form-data\\r\\n.'],
    ['folding without a header', '--XyZ\r\n folded\r\n\r\n1\r\n--XyZ--\r\n', 'Multipart parsing error: Multipart: Invalid part header (folding error).'],
    ['NUL in headers', '--XyZ\r\nContent-Disposition: form-data; name="a\0"\r\n\r\n1\r\n--XyZ--\r\n', 'Multipart parsing error: Multipart: Nul byte in part headers.'],
    ['junk after boundary', '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZjunk\r\n--XyZ--\r\n',
      'Multipart parsing error: Multipart: Invalid boundary: --XyZjunk\\r\\n'],
    ['whitespace before boundary', '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n-- XyZ\r\n--XyZ--\r\n',
      'Multipart parsing error: Multipart: Invalid boundary (whitespace).'],
    ['header line too long', '--XyZ\r\nX-Long: ' + 'a'.repeat(5000) + '\r\n\r\n1\r\n--XyZ--\r\n', 'Multipart parsing error: Multipart: Part header line over 4096 bytes long'],
  ];
  for (const [what, body, message] of bodyErrors) {
    test(`body: ${what}`, () => {
      const r = mp(body);
      assert.equal(r.error, message);
      assert.deepEqual(r.args, [], 'v2 adds no body args after an error');
    });
  }

  test('quoted boundary used with quotes in the body', () => {
    const r = mp('--"XyZ"\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ--\r\n', 'multipart/form-data; boundary="XyZ"');
    assert.equal(r.error, 'Multipart parsing error: Multipart: Invalid boundary (quotes).');
  });

  test('files completed before an error are still listed', () => {
    const r = mp('--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nabc\r\n--XyZ\r\nbroken header\r\n\r\n--XyZ--\r\n');
    assert.match(r.error!, /colon missing/);
    assert.deepEqual(r.files.map((f) => f.filename), ['a.txt']);
  });

  test('1 MB of hostile multipart runs in bounded time', () => {
    const body = ('--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + '-'.repeat(200) + '\r\n').repeat(4000) + '--XyZ--\r\n';
    const started = Date.now();
    const r = mp(body, CT, 100000);
    assert.ok(Date.now() - started < 3000);
    assert.equal(r.args.length, 4000);
  });
});

describe('MULTIPART: SecRequestBodyNoFilesLimit accounting', () => {
  test('counts part headers and text data, not file content or boundaries', () => {
    const header1 = 'Content-Disposition: form-data; name="a"\r\n';
    const header2 = 'Content-Disposition: form-data; name="f"; filename="x"\r\n';
    const body = `--XyZ\r\n${header1}\r\nvalue\r\n--XyZ\r\n${header2}\r\n${'F'.repeat(1000)}\r\n--XyZ--\r\n`;
    const r = mp(body);
    assert.equal(r.error, null);
    // Header lines and the empty line ending each header block, plus "value".
    assert.equal(r.multipart!.noFilesLength, header1.length + 2 + header2.length + 2 + 'value'.length);
  });
});
