import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitWords, tokenize } from '../../src/policy/seclang/tokenizer.js';
import { parseTargets, splitActions } from '../../src/policy/seclang/rule-parser.js';
import { PolicyBuilder, compileSecLang } from '../../src/policy/seclang/parser.js';
import { PolicyLoadError } from '../../src/policy/errors.js';

test('tokenizer: continuation lines, comments and line numbers', () => {
  const text = [
    '# a comment',
    'SecRuleEngine On',
    '',
    'SecRule ARGS "@rx a" \\',
    '    "id:1,\\',
    '    phase:2,pass"',
    '   # indented comment',
    'SecMarker END',
  ].join('\n');
  const problems: { file: string; line: number; message: string }[] = [];
  const ds = tokenize(text, 'x.conf', problems);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    ds.map((d) => [d.name, d.line, d.args]),
    [
      ['SecRuleEngine', 2, ['On']],
      ['SecRule', 4, ['ARGS', '@rx a', 'id:1,    phase:2,pass']],
      ['SecMarker', 8, ['END']],
    ],
  );
});

test('tokenizer: quoting follows Apache (escaped quote only; other backslashes kept)', () => {
  assert.deepEqual(splitWords(`SecRule ARGS "@rx \\"a\\d+\\\\x" 'x y'`), ['SecRule', 'ARGS', '@rx "a\\d+\\\\x', 'x y']);
  // As in Apache, a backslash right before the closing quote escapes it.
  assert.throws(() => splitWords('A "ends with \\"'), /unterminated/);
  assert.deepEqual(splitWords(`A 'it\\'s' "b"`), ['A', "it's", 'b']);
  assert.throws(() => splitWords('A "unterminated'), /unterminated double-quoted/);
});

test('tokenizer: an unterminated quote is a problem with file and line', () => {
  const problems: { file: string; line: number; message: string }[] = [];
  tokenize('SecRuleEngine On\nSecRule ARGS "@rx x\n', 'f.conf', problems);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 2);
  assert.match(problems[0]!.message, /unterminated/);
});

test('splitActions: quoted values with commas, escaped quotes, spaces', () => {
  const items = splitActions(`id:'200000', phase:1,msg:'a, b \\'c\\'',t:none, pass ,setvar:tx.x=+1,ctl:ruleRemoveTargetById=1;ARGS:a`);
  assert.deepEqual(items, [
    { name: 'id', param: '200000' },
    { name: 'phase', param: '1' },
    { name: 'msg', param: "a, b 'c'" },
    { name: 't', param: 'none' },
    { name: 'pass', param: null },
    { name: 'setvar', param: 'tx.x=+1' },
    { name: 'ctl', param: 'ruleRemoveTargetById=1;ARGS:a' },
  ]);
  assert.throws(() => splitActions("msg:'open"), /unterminated/);
});

test('parseTargets: selectors, counts, exclusions, regex keys with |', () => {
  const ts = parseTargets("ARGS|!ARGS:foo|&TX:x|REQUEST_HEADERS:User-Agent|REQUEST_COOKIES:/^(?:a|b)$/|!REQUEST_COOKIES:/__utm/|XML:/*|TX:'/^MSC_/'");
  assert.deepEqual(
    ts.map((t) => [t.spec.name, t.count, t.selector?.key ?? null, t.selector?.regex?.source ?? null, t.exclusions.length]),
    [
      ['ARGS', false, null, null, 1],
      ['TX', true, 'x', null, 0],
      ['REQUEST_HEADERS', false, 'user-agent', null, 0],
      ['REQUEST_COOKIES', false, null, '^(?:a|b)$', 1],
      ['XML', false, null, null, 0],
      ['TX', false, null, '^MSC_', 0],
    ],
  );
  assert.throws(() => parseTargets('ARGZ'), /unknown variable "ARGZ"/);
  assert.throws(() => parseTargets('REQUEST_URI:foo'), /takes no selector/);
});

function loadErrors(text: string): PolicyLoadError {
  try {
    compileSecLang(text, 'bad.conf');
  } catch (err) {
    assert.ok(err instanceof PolicyLoadError);
    return err;
  }
  assert.fail('expected a PolicyLoadError');
}

test('load errors are collected, each with file, line and rule id', () => {
  const err = loadErrors(
    [
      'SecRuleEngine On',
      'SecFooBar 1',
      'SecRule ARGS "@nosuchop x" "id:10,phase:2,pass"',
      'SecRule ARGS "@rx x" "id:11,phase:2,pass,frobnicate"',
      'SecRule NOSUCHVAR "@rx x" "id:12,phase:2,pass"',
      'SecRule ARGS "@rx x" "id:13,phase:2,pass,t:nosuchtransform"',
      'SecRule ARGS "@rx x" "phase:2,pass"',
      'SecRule ARGS "@rx x" "id:14,phase:2,pass"',
      'SecRule ARGS "@rx y" "id:14,phase:2,pass"',
      'SecRule ARGS "@rx x" "id:15,phase:2,pass,chain"',
      'SecRuleEngine Maybe',
    ].join('\n'),
  );
  assert.equal(err.code, 'ERR_POLICY_LOAD');
  const got = err.problems.map((p) => [p.file, p.line, p.ruleId, p.message.replace(/".*$/, '').trim()]);
  assert.deepEqual(got, [
    ['bad.conf', 2, null, 'unknown directive'],
    ['bad.conf', 3, 10, 'unknown operator'],
    ['bad.conf', 4, 11, 'unknown action'],
    ['bad.conf', 5, 12, 'unknown variable'],
    ['bad.conf', 6, 13, 'unknown transformation'],
    ['bad.conf', 7, null, 'rule has no id action'],
    ['bad.conf', 9, 14, 'duplicate rule id 14'],
    ['bad.conf', 10, 15, 'rule has'],
    ['bad.conf', 11, null, 'SecRuleEngine: expected On, Off or DetectionOnly, got'],
  ]);
  assert.match(err.message, /bad\.conf:3 \(rule 10\): unknown operator "@nosuchop"/);
});

test('bad operator parameters and bad macros are load errors', () => {
  const err = loadErrors('SecRule ARGS "@rx (" "id:1,phase:2,pass"\nSecAction "id:2,phase:1,pass,setvar:tx.a=%{nosuch.x}"');
  assert.deepEqual(err.problems.map((p) => p.ruleId), [1, 2]);
  assert.match(err.problems[1]!.message, /unknown variable "nosuch"/);
});

test('Include with globs, relative to the including file; a missing file is an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seclang-'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'b.conf'), 'SecAction "id:2,phase:1,pass,nolog"\n');
  writeFileSync(join(dir, 'rules', 'a.conf'), 'SecAction "id:1,phase:1,pass,nolog"\n');
  writeFileSync(join(dir, 'rules', 'c.data'), 'not seclang\n');
  writeFileSync(join(dir, 'main.conf'), 'Include rules/*.conf\n');
  const b = new PolicyBuilder();
  b.loadFile(join(dir, 'main.conf'));
  const p = b.build();
  assert.deepEqual(p.phases[1]!.map((r) => r.id), [1, 2]);
  writeFileSync(join(dir, 'missing.conf'), '\n\nInclude nothere.conf\n');
  const b2 = new PolicyBuilder();
  b2.loadFile(join(dir, 'missing.conf'));
  assert.throws(() => b2.build(), (e: unknown) => e instanceof PolicyLoadError && e.problems[0]!.line === 3 && /does not exist/.test(e.problems[0]!.message));
});

test('directives: settings, removal and updates', () => {
  const p = compileSecLang(
    [
      'SecRuleEngine DetectionOnly',
      'SecRequestBodyAccess On',
      'SecRequestBodyLimit 1000',
      'SecRequestBodyLimitAction ProcessPartial',
      'SecResponseBodyMimeType text/plain application/json',
      'SecAuditEngine RelevantOnly',
      'SecComponentSignature "OWASP_CRS/3.3.4"',
      'SecDefaultAction "phase:2,log,auditlog,deny,status:418"',
      'SecRule ARGS "@rx a" "id:1,phase:2,block,tag:x"',
      'SecRule ARGS "@rx a" "id:2,phase:2,block,tag:y"',
      'SecRule ARGS "@rx a" "id:3,phase:2,pass,tag:y"',
      'SecRule ARGS "@rx a" "id:4,phase:2,pass"',
      'SecRuleRemoveById 2',
      'SecRuleRemoveByTag ^y$',
      'SecRuleUpdateTargetById 1 "!ARGS:foo|REQUEST_URI"',
      'SecRuleUpdateActionById 4 "deny,status:406"',
    ].join('\n'),
  );
  assert.equal(p.settings.ruleEngine, 'DetectionOnly');
  assert.equal(p.settings.requestBodyLimit, 1000);
  assert.equal(p.settings.requestBodyLimitAction, 'ProcessPartial');
  assert.ok(p.settings.responseBodyMimeTypes.includes('application/json'));
  assert.equal(p.settings.recorded['SecAuditEngine'], 'RelevantOnly');
  const rules = p.phases[2]!;
  assert.deepEqual(rules.map((r) => r.id), [1, 4]);
  assert.equal(rules[0]!.disruptive.kind, 'deny');
  assert.equal(rules[0]!.status, 418);
  assert.deepEqual(rules[0]!.targets.map((t) => [t.spec.name, t.exclusions.length]), [['ARGS', 1], ['REQUEST_URI', 0]]);
  assert.equal(rules[1]!.disruptive.kind, 'deny');
  assert.equal(rules[1]!.status, 406);
});

test('SecMarker appears in every phase; chains hang off their starter', () => {
  const p = compileSecLang('SecRule ARGS "@rx a" "id:1,phase:1,pass,chain"\n  SecRule ARGS "@rx b" "t:lowercase"\nSecMarker M\nSecAction "id:2,phase:3,pass"');
  assert.deepEqual(p.phases.slice(1).map((l) => l.map((r) => r.marker ?? r.id)), [[1, 'M'], ['M'], ['M', 2], ['M'], ['M']]);
  assert.equal(p.phases[1]![0]!.chain!.transforms[0]!.name.toLowerCase(), 'lowercase');
  assert.equal(p.phases[1]![0]!.chain!.parentId, 1);
});

test('disruptive actions in a chained rule are load errors', () => {
  const err = loadErrors('SecRule ARGS "@rx a" "id:1,phase:1,pass,chain"\nSecRule ARGS "@rx b" "deny"');
  assert.match(err.problems[0]!.message, /only allowed in the first rule of a chain/);
  assert.equal(err.problems[0]!.line, 2);
  assert.equal(err.problems[0]!.ruleId, 1);
});
