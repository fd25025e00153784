import { describe } from 'node:test';
import { table, utf8 } from './table.js';

describe('utf8toUnicode', () => {
  table('utf8toUnicode', [
    ['', ''],
    ['plain ascii', 'plain ascii'],
    [utf8('é'), '%u00e9'],
    [utf8('a€b'), 'a%u20acb'],
    [utf8('😀'), '%u1f600', 'five hex digits'],
    [utf8('＜'), '%uff1c'],
    ['\xc0\x80', '%u0000\xc0', 'overlong: lead byte appended'],
    ['\xed\xa0\x80', '%ud800\xed', 'surrogate: lead byte appended'],
    ['\xc3', '', 'truncated sequence: lead byte dropped'],
    ['\xc3A', 'A', 'bad continuation: lead dropped, next byte kept'],
    ['\x80', '\x80', 'stray continuation byte copied'],
    ['\xff', '\xff', 'invalid lead copied'],
    ['a\0b', 'ab', 'NUL dropped as in v2'],
    ['\xf5\x80\x80\x80', '\xf5%u140000', 'lead >= 0xF5 emitted, then decoded anyway'],
  ]);
});
