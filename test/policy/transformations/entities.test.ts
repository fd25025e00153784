import { describe } from 'node:test';
import { table } from './table.js';

describe('htmlEntityDecode', () => {
  table('htmlEntityDecode', [
    ['', ''],
    ['no entities', 'no entities'],
    ['&lt;script&gt;', '<script>'],
    ['&LT;&Gt;&QUOT;&Amp;', '<>"&', 'names are case-insensitive'],
    ['&nbsp;', '\xa0'],
    ['&lt', '<', 'semicolon optional'],
    ['&ltx', '&ltx', 'the name runs to the last alphanumeric: "ltx" is unknown'],
    ['&#65;&#66', 'AB'],
    ['&#x41;&#X42;&#x6a', 'ABj'],
    ['&#0065;', 'A', 'leading zeros'],
    ['&#321;', 'A', '321 = 0x141: low byte 0x41'],
    ['&#x141;', 'A'],
    ['&#99999999999999999999999;', '\xff', 'overflow saturates at LONG_MAX: low byte 0xff'],
    ['&#xffffffffffffffffff;', '\xff', 'hex overflow saturates'],
    ['&#x7fffffffffffff41;', 'A', 'below LONG_MAX keeps the low byte'],
    ['&#;', '&#;', 'no digits'],
    ['&#x;', '&#x;'],
    ['&#xg', '&#xg'],
    ['&#', '&#', 'truncated'],
    ['&#x', '&#x'],
    ['&', '&'],
    ['&;', '&;'],
    ['&foo;', '&foo;', 'unknown names are copied'],
    ['&apos;', '&apos;', 'v2 knows only quot amp lt gt nbsp'],
    ['&&lt;', '&<'],
    ['&#0;', '\0'],
  ]);
});

describe('jsDecode', () => {
  table('jsDecode', [
    ['', ''],
    ['plain', 'plain'],
    ['\\u0041\\u0062', 'Ab'],
    ['\\u1234', '\x34', 'low byte only'],
    ['\\uff0e', '.', 'full-width ASCII shifted by 0x20'],
    ['\\uFF0E', '.'],
    ['\\u004', 'u004', 'short \\u: escaped character stands for itself'],
    ['\\x41\\x6A', 'Aj'],
    ['\\x4', 'x4'],
    ['\\101', 'A', 'octal'],
    ['\\1010', 'A0', 'at most three octal digits'],
    ['\\477', "'7", '\\47 then 7: a third digit would overflow a byte'],
    ['\\7', '\x07'],
    ['\\0', '\0'],
    ['\\a\\b\\f\\n\\r\\t\\v', '\x07\x08\x0c\n\r\t\x0b'],
    ['\\"\\\'\\\\\\?\\z', '"\'\\?z'],
    ['abc\\', 'abc\\', 'trailing backslash kept'],
    ['\\', '\\'],
  ]);
});

describe('cssDecode', () => {
  table('cssDecode', [
    ['', ''],
    ['plain', 'plain'],
    ['\\41', 'A'],
    ['\\4', '\x04', 'single hex digit'],
    ['\\041', 'A', 'three digits: last two'],
    ['\\0041', 'A', 'four digits'],
    ['\\ff0e', '.', 'full-width check with four digits'],
    ['\\00041', 'A', 'five digits starting with 0'],
    ['\\10041', 'A', 'five digits: last two'],
    ['\\0ff0e', '.', 'five digits with full-width check'],
    ['\\000041', 'A', 'six digits'],
    ['\\0000410', 'A0', 'at most six digits'],
    ['\\41 b', 'Ab', 'one whitespace after an escape is eaten'],
    ['\\41  b', 'A b', 'only one'],
    ['a\\\nb', 'ab', 'backslash-newline removed'],
    ['\\z', 'z'],
    ['\\\\', '\\'],
    ['abc\\', 'abc', 'trailing backslash dropped'],
  ]);
});

describe('escapeSeqDecode', () => {
  table('escapeSeqDecode', [
    ['', ''],
    ['plain', 'plain'],
    ['\\n\\t\\r\\a\\b\\f\\v', '\n\t\r\x07\x08\x0c\x0b'],
    ['\\\\\\?\\\'\\"', '\\?\'"'],
    ['\\x41\\X42', 'AB'],
    ['\\x4', 'x4', 'invalid hex: backslash dropped'],
    ['\\xZZ', 'xZZ'],
    ['\\101', 'A'],
    ['\\1', '\x01'],
    ['\\777', '\xff', 'octal 511 truncated to a byte'],
    ['\\q', 'q'],
    ['abc\\', 'abc\\', 'lone trailing backslash kept'],
  ]);
});
