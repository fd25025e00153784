import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { operators, getOperator, builtinOperators } from '../../../src/policy/operators/index.js';
import { extractRuleOperators, ruleFiles } from '../regex/crs-rules.js';
import { loadContext, testMacro } from './operator-harness.js';
import { testNeeding } from '../prerequisites.js';

test('lookup is case-insensitive and covers names and aliases', () => {
  assert.equal(getOperator('RX'), getOperator('rx'));
  assert.equal(getOperator('pmf')?.name, 'pmFromFile');
  assert.equal(getOperator('PMFROMFILE')?.name, 'pmFromFile');
  assert.equal(getOperator('ipmatchf')?.name, 'ipMatchFromFile');
  assert.equal(getOperator('detectsqli')?.name, 'detectSQLi');
  assert.equal(getOperator('nosuchoperator'), undefined);
  for (const spec of builtinOperators) {
    assert.equal(operators.get(spec.name.toLowerCase()), spec);
    for (const a of spec.aliases ?? []) assert.equal(operators.get(a.toLowerCase()), spec);
  }
  for (const key of operators.keys()) assert.equal(key, key.toLowerCase());
});

test('the operators v2 has but Portcullis does not implement fail to load with a reason', () => {
  for (const name of ['validateDTD', 'validateSchema', 'inspectFile', 'gsbLookup', 'rsub', 'validateHash', 'fuzzyHash']) {
    const spec = getOperator(name)!;
    assert.throws(() => spec.create('x', testMacro('x'), loadContext('/')), new RegExp(`@${name} is not supported: .+`));
  }
});

const crsFiles = ruleFiles();
testNeeding('every operator used by the Debian CRS rules exists and loads with the real data files', { 'modsecurity-crs': crsFiles.length > 0 }, () => {
  const ops = extractRuleOperators(crsFiles);
  const names = new Set(ops.map((o) => o.name));
  assert.ok(names.size >= 19, `expected the CRS operator set, got ${[...names].join(',')}`);
  let loaded = 0;
  for (const o of ops) {
    const spec = getOperator(o.name);
    assert.ok(spec, `operator @${o.name} (rule ${o.id}, ${o.file}:${o.line}) is not registered`);
    assert.doesNotThrow(() => spec.create(o.param, testMacro(o.param), loadContext(dirname(o.file))), `rule ${o.id} @${o.name} ${o.param.slice(0, 80)}`);
    loaded++;
  }
  assert.equal(loaded, ops.length);
});
