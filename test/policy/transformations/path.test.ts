import { describe } from 'node:test';
import { table } from './table.js';

describe('normalisePath', () => {
  table('normalisePath', [
    ['', ''],
    ['abc', 'abc'],
    ['/a/b/c', '/a/b/c'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/../../c', '/c'],
    ['/../../etc/passwd', '/etc/passwd', 'cannot climb above the root'],
    ['../../etc/passwd', '../../etc/passwd', 'relative paths keep leading back-references'],
    ['./a', 'a'],
    ['a/./b/.', 'a/b'],
    ['/a//b///c', '/a/b/c'],
    ['/a/b/', '/a/b/', 'trailing slash kept'],
    ['/a/b/..', '/a'],
    ['/..', '', 'v2 keeps the root slash, then strips it as a trailing slash the input did not have'],
    ['a\\..\\b', 'a\\..\\b', 'backslashes are not separators'],
  ]);
  table('normalizePath', [['/a/./b/../c', '/a/c', 'US spelling alias']]);
});

describe('normalisePathWin', () => {
  table('normalisePathWin', [
    ['', ''],
    ['C:\\a\\..\\b', 'C:/b'],
    ['\\a\\.\\b\\\\c', '/a/b/c'],
    ['..\\..\\windows', '../../windows'],
  ]);
  table('normalizePathWin', [['a\\b', 'a/b']]);
});
