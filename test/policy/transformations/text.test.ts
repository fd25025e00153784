import { describe } from 'node:test';
import { table } from './table.js';

describe('lowercase', () => {
  table('lowercase', [
    ['', ''],
    ['abc', 'abc'],
    ['SeLeCt', 'select'],
    ['\xc0\xde', '\xc0\xde', 'C locale: latin1 letters untouched'],
    ['A\0B', 'a\0b'],
    ['AB\xc0\xdeZ', 'ab\xc0\xdez', 'ASCII lowered, latin1 capitals kept'],
  ]);
});

describe('uppercase', () => {
  table('uppercase', [
    ['', ''],
    ['ABC', 'ABC'],
    ['SeLeCt', 'SELECT'],
    ['\xe0', '\xe0'],
    ['ab\xff\xb5\xdfz', 'AB\xff\xb5\xdfZ', 'latin1 letters untouched (toUpperCase would leave the byte range)'],
  ]);
});

describe('removeNulls / replaceNulls', () => {
  table('removeNulls', [['', ''], ['abc', 'abc'], ['a\0b\0\0c', 'abc'], ['\0', '']]);
  table('replaceNulls', [['', ''], ['abc', 'abc'], ['a\0b\0\0c', 'a b  c']]);
});

describe('removeWhitespace', () => {
  table('removeWhitespace', [
    ['', ''],
    ['abc', 'abc'],
    [' a \t\nb\r\x0b\x0cc ', 'abc'],
    ['a\xa0b', 'ab', 'NBSP counts as whitespace'],
    ['a\x85b', 'a\x85b', 'NEL does not'],
  ]);
});

describe('compressWhitespace', () => {
  table('compressWhitespace', [
    ['', ''],
    ['a b', 'a b'],
    ['a   b', 'a b'],
    ['a\tb', 'a b', 'a single tab becomes a space'],
    [' \t\r\n', ' '],
    ['a\xa0\xa0b ', 'a b '],
    ['  lead', ' lead'],
  ]);
});

describe('trim, trimLeft, trimRight', () => {
  table('trim', [['', ''], ['abc', 'abc'], [' \t a b \r\n', 'a b'], ['\xa0a\xa0', '\xa0a\xa0', 'NBSP is not trimmed'], ['   ', '']]);
  table('trimLeft', [['  a  ', 'a  '], ['\x0b\x0ca', 'a']]);
  table('trimRight', [['  a  ', '  a'], ['a\n', 'a']]);
});

describe('replaceComments', () => {
  table('replaceComments', [
    ['', ''],
    ['no comment', 'no comment'],
    ['a/*x*/b', 'a b'],
    ['a/**/b/* y */c', 'a b c'],
    ['a/*unterminated', 'a '],
    ['a*/b', 'a*/b', 'stray closer kept'],
    ['/*', ' '],
  ]);
});

describe('removeComments', () => {
  table('removeComments', [
    ['', ''],
    ['plain', 'plain'],
    ['a/*x*/bc', 'abc'],
    ['a<!--x-->bc', 'abc'],
    ['a/*x', 'a ', 'unterminated comment becomes a space'],
    ['a--b', 'a', 'SQL comment ends the value'],
    ['a#b', 'a'],
    ['a/*x*/', 'a\0', 'v2 copies the NUL terminator after a closing marker at the end'],
    ['/*x*/--y', '--y', 'the byte after the closer is copied without inspection, so "--" is not seen'],
  ]);
});

describe('removeCommentsChar', () => {
  table('removeCommentsChar', [
    ['', ''],
    ['plain', 'plain'],
    ['a/*b*/c', 'abc'],
    ['<!--a-->', 'a'],
    ['a--b#c', 'abc'],
    ['a-b', 'a-b'],
  ]);
});

describe('cmdLine', () => {
  table('cmdLine', [
    ['', ''],
    ['ls', 'ls'],
    ['C^A"L\'C\\', 'calc', 'quotes, caret and backslash deleted; lowercased'],
    ['cat   /etc/passwd', 'cat/etc/passwd', 'space before / removed'],
    ['echo ( x )', 'echo( x )'],
    ['a,;\t\r\nb', 'a b', 'separators collapse to one space'],
    ['a "/b', 'a/b', 'a deleted quote does not reset the space state'],
    ['A\0B', 'a', 'stops at NUL as v2 does'],
    [' x', ' x'],
  ]);
});
