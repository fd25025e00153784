import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleRegex, translatePcre, RuleRegexError, type CompiledRegex } from '../../../src/policy/regex/index.js';
import { perlAvailable, perlMatches } from './perl-oracle.js';
import { testNeeding } from '../prerequisites.js';

/** [pattern, subject, expected] — expected is PCRE's answer under ModSecurity v2's flags. */
type Row = [string, string, boolean];

const rows: Row[] = [
  // inline flags at the start, inside a group, scoped, switched off, carried into later alternatives
  ['(?i)abc', 'xAbCx', true], ['a(?i)bc', 'aBC', true], ['a(?i)bc', 'ABC', false], ['(?i:a)b', 'Ab', true],
  ['(?i:a)b', 'AB', false], ['(?i)a(?-i)b', 'Ab', true], ['(?i)a(?-i)b', 'AB', false], ['(a(?i)b|c)', 'C', true],
  ['(?i)[a-c]+', 'ABC', true], ['(?i)[^a]', 'A', false], ['(?i)\u00e9', '\xc3\x89', false],
  // DOTALL is on (v2 flag); (?-s) turns it off; (?s) is accepted
  ['a.b', 'a\nb', true], ['(?-s)a.b', 'a\nb', false], ['(?s)a.b', 'a\nb', true], ['\\N', '\n', false],
  // DOLLAR_ENDONLY: $ only at the very end; \Z also before a final newline; \z only at the end; (?m)
  ['abc$', 'abc\n', false], ['abc$', 'abc', true], ['abc\\Z', 'abc\n', true], ['abc\\Z', 'abc\n\n', false], ['abc\\z', 'abc\n', false],
  ['(?m)^b$', 'a\nb\nc', true], ['(?m)^$', 'a\n', false], ['(?m)a$', 'a\nb', true], ['\\Aab', 'ab', true], ['\\Ab', 'ab', false],
  // possessive quantifiers and atomic groups
  ['a*+a', 'aaaa', false], ['a++b', 'aaab', true], ['a?+a', 'a', false], ['(?>a+)b', 'aab', true], ['(?>a|ab)c', 'abc', false],
  ['x{1,3}+x', 'xxx', false], ['x{1,3}+x', 'xxxx', true],
  // lookaround and backreferences
  ['a(?=b)', 'ab', true], ['a(?=b)', 'ac', false], ['a(?!b)', 'ab', false], ['(?<=a)b', 'ab', true], ['(?<!a)b', 'ab', false],
  ['(?<!&(?:amp)|&(?:lt));', '&amp;', false], ['(?<!&(?:amp)|&(?:lt));', 'x;', true], ['(\\w+) \\1', 'hey hey', true],
  ['(\\w+) \\1', 'hey joe', false], ['(?i)(a)\\1', 'aA', true], ['(?<n>x)\\k<n>', 'xx', true], ['(?P<n>x)(?P=n)', 'xx', true],
  ['(a)|\\1b', 'b', false],
  // escapes: \x{HH}, \xHH, octal, \e, \Q…\E, \c, \0, unknown letters are literal
  ['\\x{41}', 'A', true], ['\\x41\\x4a', 'AJ', true], ['\\101', 'A', true], ['\\0', '\x00', true], ['\\012', '\n', true],
  ['\\e', '\x1b', true], ['\\Qa.b\\E', 'a.b', true], ['\\Qa.b\\E', 'axb', false], ['\\Qa.b', 'a.b', true], ['\\cA', '\x01', true],
  ['\\i', 'i', true], ['\\/', '/', true], ['\\x', '\x00', true],
  // classes: POSIX, negated POSIX, escapes inside, ']' first, '-' literal, \b as backspace
  ['[[:alpha:]]+$', 'abcXYZ', true], ['[[:digit:]]', 'a', false], ['[[:^digit:]]', '5', false], ['[[:punct:]]', '_', true],
  ['[]a]', ']', true], ['[a-]', '-', true], ['[\\d-z]', '-', true], ['[\\b]', '\x08', true], ['[\\x{41}-\\x{43}]', 'B', true],
  ['[^\\n]', '\n', false], ['[\\w.-]+@', 'a.b-c@', true], ['[\\Q]\\E]', ']', true],
  // \s is PCRE's (with \v since 8.34; without NBSP); \h and \v include 0xA0 / 0x85; \w \d \b are ASCII
  ['\\s', '\x0b', true], ['\\s', '\xa0', false], ['\\h', '\xa0', true], ['\\v', '\x85', true], ['\\w', '\xe9', false],
  ['\\bfoo\\b', '\xe9foo\xe9', true], ['\\d', '\xb2', false],
  // bytes: . is one byte; non-ASCII literals are UTF-8 bytes; a quantifier binds to the last byte
  ['^.$', '\xff', true], ['^.$', '\xc3\xa9', false], ['\u00e9', '\xc3\xa9', true], ['^\u00e9+$', '\xc3\xa9\xa9', true],
  ['[\u00b4]', '\xb4', true], ['[\u00b4]', '\xc2', true], ['[^\u2019]', '\x99', false],
  // quantifier forms, literal braces, lazy, comments, extended mode
  ['a{2}', 'aa', true], ['a{2,}', 'a', false], ['a{,2}', 'a{,2}', true], ['x{', 'x{', true], ['a{1,2}?b', 'ab', true],
  ['a(?#comment)b', 'ab', true], ['(?x) a b # c', 'ab', true], ['(?x)[ ]', ' ', true],
];

const engines: Array<'re2' | 'bounded' | undefined> = [undefined, 'bounded'];

test('translated patterns match as PCRE does under ModSecurity v2 flags (table)', () => {
  for (const [pattern, subject, expected] of rows) {
    for (const engine of engines) {
      let re: CompiledRegex;
      try { re = compileRuleRegex(pattern, engine ? { engine } : {}); } catch (e) { assert.fail(`/${pattern}/ did not compile: ${(e as Error).message}`); }
      assert.equal(re.test(subject), expected, `/${pattern}/ (${re.engine}) on ${JSON.stringify(subject)}`);
    }
  }
});

testNeeding('the table agrees with Perl, the PCRE reference dialect', { perl: perlAvailable() }, () => {
  // Perl has no DOLLAR_ENDONLY and no \N-as-non-newline quirk differences; skip rows that depend on them.
  const usable = rows.filter(([p, s]) => !s.endsWith('\n') && !p.includes('\\x{') && !/\(\?x\)/.test(p) && !p.includes('\\Q') && p !== '\\x');
  const out = perlMatches(usable.map((r) => r[0]), usable.map((r) => r[1]));
  usable.forEach(([pattern, subject, expected], i) => {
    const perl = out[i]![i];
    assert.equal(perl === '1', expected, `perl disagrees with the table on /${pattern}/ ${JSON.stringify(subject)}`);
  });
});

test('engine choice: RE2 when the translation is exact, bounded otherwise', () => {
  assert.equal(compileRuleRegex('(?i)union\\s+select').engine, 're2');
  for (const p of ['a(?=b)', '(?<=a)b', '(a)\\1', 'a++', '(?>a)', 'a\\Z', '(?m)^a', 'a{1001}']) {
    const re = compileRuleRegex(p);
    assert.equal(re.engine, 'bounded', p);
    assert.ok(re.fallbackReason && re.fallbackReason.length > 0);
  }
  const t = translatePcre('(?i)a.b$');
  assert.ok('source' in t.re2);
  assert.ok('source' in t.v8);
});

test('capture groups and search offsets are the same in both engines', () => {
  for (const engine of ['re2', 'bounded'] as const) {
    const re = compileRuleRegex('(\\d+)-(x)?(\\d+)', { engine });
    assert.deepEqual(re.exec('ab 12-34 cd'), ['12-34', '12', undefined, '34'], engine);
    assert.equal(re.exec('none'), null);
    const word = compileRuleRegex('\\bab', { engine });
    assert.deepEqual(word.search('xab ab', 1), { index: 4, groups: ['ab'] }, `${engine}: \\b sees the byte before the offset`);
    const hi = compileRuleRegex('b', { engine });
    assert.equal(hi.search('\xe9\xe9b\xe9b', 3)?.index, 4, `${engine}: offsets count bytes`);
  }
});

test('unsupported or invalid constructs are clear errors', () => {
  const bad: Array<[string, RegExp]> = [
    ['(?R)', /recursion/], ['(?1)', /recursion/], ['(?(1)a|b)', /conditional/], ['(?|a)', /branch reset/], ['\\G', /\\G/],
    ['a\\K', /\\K/], ['\\p{L}', /Unicode/], ['(*UTF8)a', /verbs/], ['\\x{100}', /too large/], ['(a', /missing \)/],
    ['a)', /unmatched closing/], ['[a', /terminating \]/], ['*a', /does not follow/], ['(?<=a+)b', /not fixed length/],
    ['\\2(a)', /non-existent subpattern/], ['[z-a]', /out of order/], ['[[:nope:]]', /POSIX class/], ['a{3,2}', /out of order/],
    ['(?Q)', /unrecognized character after \(\?/],
  ];
  for (const [pattern, message] of bad) {
    assert.throws(() => compileRuleRegex(pattern), (e: unknown) => e instanceof RuleRegexError && e.code === 'ERR_RULE_REGEX' && message.test(e.message), pattern);
  }
});

test('the bounded engine: RE2 superset prefilter and result cache give the exact answers', () => {
  const exact = compileRuleRegex('(\\w+)=(?!\\1\\b)\\w+'); // backreference inside a negative lookahead
  const plain = compileRuleRegex('(\\w+)=(?!\\1\\b)\\w+', { engine: 'bounded' }); // no prefilter, no cache
  assert.equal(exact.engine, 'bounded');
  const subjects = ['a=b', 'a=a', 'x=x y=z', 'no equals here', 'a=a', 'a=b', '=', 'ab=abc', 'ab=ab'];
  for (let round = 0; round < 3; round++) {
    for (const s of subjects) assert.equal(exact.test(s), plain.test(s), `${JSON.stringify(s)} round ${round}`);
  }
  assert.equal(exact.test('a=a'), false);
  assert.equal(exact.test('a=b'), true);
  assert.deepEqual(exact.exec('a=b'), ['a=b', 'a']);
  assert.equal(exact.exec('no equals'), null);
});

test('required literals: every match contains one of them; unknown shapes give none', async () => {
  const { requiredLiterals } = await import('../../../src/policy/regex/required-literals.js');
  const { parsePcre } = await import('../../../src/policy/regex/pcre-syntax.js');
  const lits = (p: string) => { const r = requiredLiterals(parsePcre(p).root); return r === null ? null : [...r].sort(); };
  assert.deepEqual(lits('(?i)union\\s+select'), ['select'], 'both are required; the longer one is checked');
  assert.deepEqual(lits('(?i:select|union|insert)\\b'), ['insert', 'select', 'union']);
  assert.deepEqual(lits('abc'), ['abc']);
  assert.equal(lits('x(?=y)z'), null, 'literals shorter than 3 bytes are not worth checking');
  assert.deepEqual(lits('foo(?=bar)baz'), ['foobaz'], 'lookahead is zero-width: the bytes on both sides are adjacent');
  assert.deepEqual(lits('(?:abc)?def'), ['def'], 'an optional part imposes nothing');
  assert.deepEqual(lits('\\.{3,}'), ['...']);
  assert.equal(lits('\\d+'), null);
  assert.equal(lits('abc|\\d'), null, 'one alternative has no literal');
  assert.equal(lits('(a)\\1b'), null, 'too short to be useful');
  assert.deepEqual(lits('(?:^|[\\\\/])\\.\\.(?:[\\\\/]|$)'), ['..'], 'a two-byte literal with punctuation is worth checking');
  assert.deepEqual(lits('<\\?(?!xml)'), ['<?']);
  // Soundness on the prefiltered path: same answers as the bounded engine with no prefilter.
  for (const p of ['(?i)union\\s+select', '(?:abc)?def', 'foo(?=bar)baz|qux\\d{2,}', '(?i)\\bjava(?:script)?:', '[\\x80-\\xff]{2}ab']) {
    const fast = compileRuleRegex(p), slow = compileRuleRegex(p, { engine: 'bounded' });
    for (const s of ['UNION  SELECT', 'def', 'foobaz', 'foobarbaz', 'QUX12', 'qux1', 'JavaScript:', 'x\xe9\xe9ab', '\xc9\xc9AB', '']) {
      assert.equal(fast.test(s), slow.test(s), `/${p}/ on ${JSON.stringify(s)}`);
    }
  }
});

test('required byte sets: every match holds a byte of each set; optional and zero-width parts impose nothing', async () => {
  const { requiredByteSets, presentBytes, meetsByteSets } = await import('../../../src/policy/regex/required-bytes.js');
  const { parsePcre } = await import('../../../src/policy/regex/pcre-syntax.js');
  const members = (w: Uint32Array) => { let s = ''; for (let b = 0; b < 256; b++) if (w[b >>> 5]! & (1 << (b & 31))) s += String.fromCharCode(b); return s; };
  const sets = (p: string) => { const r = requiredByteSets(parsePcre(p).root); return r === null ? null : r.map(members).sort(); };
  assert.deepEqual(sets("'\\s*or"), ["'"], 'letters are too common to be worth a check; the quote is kept');
  assert.deepEqual(sets('<script|javascript:'), [':<'], 'an alternation requires one byte of the union of its branches');
  assert.deepEqual(sets('(?i)<x'), ['<'], 'case folding does not change punctuation');
  assert.equal(sets('a?'), null, 'can match the empty string');
  assert.equal(sets('\\w+'), null, 'only common bytes are required');
  assert.equal(sets('(?=<)'), null, 'lookahead is zero-width');
  assert.equal(sets('<|x'), null, 'one branch needs only a letter');
  const value = (s: string) => presentBytes(s, new Uint32Array(8));
  const req = requiredByteSets(parsePcre('[<>]').root)!;
  assert.equal(meetsByteSets(value('a < b'), req), true);
  assert.equal(meetsByteSets(value('a b'), req), false);
  assert.equal(meetsByteSets(value('\u0100'), req), true, 'a char above 0xFF is not a byte string: may match');
  // Soundness on the prefiltered path: same answers as the bounded engine with no prefilter.
  for (const p of ["(?i)'\\s*or\\s", '<script|javascript:', '[;|`]\\s*cat\\b', '(?:\\$\\{|%24%7b)']) {
    const fast = compileRuleRegex(p), slow = compileRuleRegex(p, { engine: 'bounded' });
    assert.ok(fast.requiredByteSets !== null, `/${p}/ has required bytes`);
    for (const s of ["1' OR 1", '<SCRIPT>', 'JavaScript:x', 'a; cat /etc', 'a|cat', '${x}', '%24%7b', 'plain text', '']) {
      assert.equal(fast.test(s), slow.test(s), `/${p}/ on ${JSON.stringify(s)}`);
    }
  }
});

test('trivial patterns: ^.*$ matches every value whole, ^$ only the empty one, without an engine', () => {
  const all = compileRuleRegex('^.*$'), empty = compileRuleRegex('^$');
  assert.equal(all.engine, 'trivial');
  assert.equal(empty.engine, 'trivial');
  for (const s of ['', 'x', 'a\nb\n', '\0\xff', 'x'.repeat(100000)]) {
    assert.deepEqual(all.exec(s), [s]);
    assert.equal(empty.test(s), s === '');
    assert.deepEqual(empty.exec(s), s === '' ? [''] : null);
  }
  assert.deepEqual(all.search('abc', 0), { index: 0, groups: ['abc'] });
  assert.equal(all.search('abc', 1), null, '^ holds at offset 0 only');
  // Anything else goes to an engine: no DOTALL, groups, \Z, a different quantifier.
  for (const p of ['(?-s)^.*$', '^(.*)$', '^.*\\Z', '^.+$', '^.*x$']) assert.notEqual(compileRuleRegex(p).engine, 'trivial', p);
  assert.equal(compileRuleRegex('(?-s)^.*$').test('a\nb'), false);
  assert.deepEqual(compileRuleRegex('^(.*)$').exec('ab'), ['ab', 'ab']);
});

test('minimum match length: values shorter than any match are rejected without an engine', async () => {
  const { minimumMatchLength } = await import('../../../src/policy/regex/required-bytes.js');
  const { parsePcre } = await import('../../../src/policy/regex/pcre-syntax.js');
  const min = (p: string) => minimumMatchLength(parsePcre(p).root);
  assert.equal(min('abc'), 3);
  assert.equal(min('a|bc'), 1, 'the shortest alternative');
  assert.equal(min('x{3,}'), 3);
  assert.equal(min('(?:ab)?c'), 1, 'optional parts count 0');
  assert.equal(min('(a)\\1'), 1, 'backreferences count 0');
  assert.equal(min('(?=abc)'), 0, 'lookahead is zero-width');
  assert.equal(min('\\bselect\\b'), 6);
  for (const p of ['(?i)\\bselect\\b', 'a|bc', '(?:ab)?c', '(a)\\1b', 'x{3,}', '(?i)(?:union|sel)\\s']) {
    const fast = compileRuleRegex(p), slow = compileRuleRegex(p, { engine: 'bounded' });
    for (const s of ['', 'a', 'bc', 'c', 'aab', 'xx', 'xxx', 'SELEC', 'SELECT', 'sel ', 'union ', 'se']) {
      assert.equal(fast.test(s), slow.test(s), `/${p}/ on ${JSON.stringify(s)}`);
    }
  }
});
