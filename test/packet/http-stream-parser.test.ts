import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpStreamParser, type ParserKind } from '../../src/packet/http-stream-parser.js';

function parse(kind: ParserKind, input: string, splitEvery = 0, methods: string[] = []) {
  const log: string[] = [];
  let body = '';
  const p = new HttpStreamParser(kind, {
    head: (h) => log.push(`head ${h.method || h.status} ${h.target} ${h.rawHeaders.length / 2}`),
    body: (c) => { body += c.toString('latin1'); },
    end: (complete) => { log.push(`end ${complete} ${JSON.stringify(body)}`); body = ''; },
    informational: (s) => log.push(`info ${s}`),
    violation: (code) => log.push(`violation ${code}`),
  }, { maxHeaderBytes: 4096, maxHeaderCount: 50 });
  for (const m of methods) p.expectResponseTo(m);
  const buf = Buffer.from(input, 'latin1');
  if (splitEvery === 0) p.push(buf);
  else for (let i = 0; i < buf.length; i += splitEvery) p.push(buf.subarray(i, i + splitEvery));
  p.close();
  return log;
}

const PIPELINED =
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
  'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
  'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n';

describe('HTTP/1.1 stream parser', () => {
  const expected = [
    'head GET /a 1', 'end true ""',
    'head POST /b 2', 'end true "hello"',
    'head POST /c 1', 'end true "abcde"',
  ];
  for (const split of [0, 1, 2, 3, 7, 13]) {
    it(`parses pipelined requests with length and chunked bodies (split every ${split || 'all'} bytes)`, () => {
      assert.deepEqual(parse('request', PIPELINED, split), expected);
    });
  }

  it('knows which responses have no body (HEAD, 204, 304) and skips 100 Continue', () => {
    const input =
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n' +
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' +
      'HTTP/1.1 200 OK\r\n\r\nuntil close';
    assert.deepEqual(parse('response', input, 5, ['HEAD', 'POST', 'GET', 'GET']), [
      'head 200  1', 'end true ""',
      'info 100', 'head 204  0', 'end true ""',
      'head 200  1', 'end true "ok"',
      'head 200  0', 'end true "until close"',
    ]);
  });

  it('reports conflicting Content-Length as request smuggling and stops', () => {
    const log = parse('request', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello');
    assert.deepEqual(log, ['violation request-smuggling']);
  });

  it('reports Transfer-Encoding with Content-Length and frames by chunked', () => {
    const log = parse('request', 'POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n');
    assert.deepEqual(log, ['violation request-smuggling', 'head POST / 2', 'end true "x"']);
  });

  it('rejects an oversized head, a bad request line and a bad chunk size', () => {
    assert.deepEqual(parse('request', `GET / HTTP/1.1\r\nX: ${'a'.repeat(5000)}\r\n\r\n`), ['violation head-too-large']);
    assert.deepEqual(parse('request', 'NOT A REQUEST\r\n\r\n'), ['violation bad-request-line']);
    assert.deepEqual(parse('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
      ['head POST / 1', 'violation bad-chunk', 'end false ""']);
  });

  it('ends a message cut by a gap as incomplete and resynchronises on the next request line', () => {
    const log: string[] = [];
    const p = new HttpStreamParser('request', {
      head: (h) => log.push(`head ${h.target}`), body: () => {}, end: (c) => log.push(`end ${c}`), violation: (c) => log.push(c),
    }, { maxHeaderBytes: 4096, maxHeaderCount: 50 });
    p.push(Buffer.from('POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc'));
    p.gap();
    p.push(Buffer.from('garbage in the middle'));
    p.push(Buffer.from('GET /y HTTP/1.1\r\n\r\n'));
    assert.deepEqual(log, ['head /x', 'end false', 'head /y', 'end true']);
  });
});
