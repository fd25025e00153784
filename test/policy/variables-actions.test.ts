/** Variables and actions not covered elsewhere, each through a real transaction. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSecLang } from '../../src/policy/seclang/parser.js';
import { Transaction } from '../../src/policy/transaction.js';
import { CollectionStore } from '../../src/policy/collection-store.js';
import { variables } from '../../src/policy/variables/index.js';
import { actions } from '../../src/policy/actions/index.js';

function run(rules: string, headers: [string, string][] = [['Host', 'www.example.com:8443']], uri = '/a/index.php?x=1') {
  const policy = compileSecLang('SecRuleEngine On\n' + rules, 'va.conf');
  const tx = new Transaction(policy, { id: 'UID-123', clientIp: '192.0.2.9', clientPort: 4444, serverIp: '10.1.1.1', serverPort: 8443, store: new CollectionStore() });
  tx.processRequestHeaders({ method: 'GET', uri, protocol: 'HTTP/1.1', headers });
  tx.processRequestBody('', true);
  tx.processResponseHeaders({ status: 200, protocol: 'HTTP/1.1', headers: [['Content-Type', 'text/html']] });
  tx.processLogging();
  return tx;
}

test('registries hold what CRS needs', () => {
  for (const v of ['ARGS', 'REQUEST_HEADERS', 'TX', 'IP', 'GLOBAL', 'XML', 'MULTIPART_STRICT_ERROR', 'FILES_COMBINED_SIZE', 'MATCHED_VARS_NAMES', 'UNIQUE_ID', 'DURATION', 'TIME_EPOCH', 'REMOTE_ADDR', 'REQBODY_PROCESSOR']) {
    assert.ok(variables.has(v), v);
  }
  for (const a of ['setvar', 'ctl', 'skipafter', 'initcol', 'expirevar', 'multimatch', 'capture', 'chain', 'block', 'redirect']) assert.ok(actions.has(a), a);
});

test('connection, identity, time and request-line scalars', () => {
  const rules = [
    'SecRule REMOTE_ADDR "@streq 192.0.2.9" "id:1,phase:1,pass"',
    'SecRule UNIQUE_ID "@streq UID-123" "id:2,phase:1,pass"',
    'SecRule SERVER_NAME "@streq www.example.com" "id:3,phase:1,pass"',
    'SecRule SERVER_PORT "@eq 8443" "id:4,phase:1,pass"',
    'SecRule TIME_EPOCH "@gt 1600000000" "id:5,phase:1,pass"',
    'SecRule DURATION "@ge 0" "id:6,phase:1,pass"',
    'SecRule REQUEST_LINE "@streq GET /a/index.php?x=1 HTTP/1.1" "id:7,phase:1,pass"',
    'SecRule REQUEST_BASENAME "@streq index.php" "id:8,phase:1,pass"',
    'SecRule RESPONSE_STATUS "@eq 200" "id:9,phase:3,pass"',
    'SecRule RESPONSE_CONTENT_TYPE "@streq text/html" "id:10,phase:3,pass"',
  ].join('\n');
  assert.deepEqual(run(rules).matchedRuleIds(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('cookies (v0 format) and header names', () => {
  const rules = [
    'SecRule REQUEST_COOKIES:sid "@streq a=b" "id:1,phase:1,pass"',
    'SecRule &REQUEST_COOKIES "@eq 3" "id:2,phase:1,pass"',
    'SecRule REQUEST_COOKIES_NAMES "@streq flag" "id:3,phase:1,pass"',
    'SecRule REQUEST_HEADERS_NAMES "@streq Cookie" "id:4,phase:1,pass"',
  ].join('\n');
  assert.deepEqual(run(rules, [['Host', 'x'], ['Cookie', 'sid=a=b; theme=dark'], ['Cookie', 'flag']]).matchedRuleIds(), [1, 2, 3, 4]);
});

test('MATCHED_VARS_NAMES, HIGHEST_SEVERITY, RULE, ENV via setenv', () => {
  const rules = [
    'SecRule ARGS|REQUEST_FILENAME "@rx ." "id:1,phase:1,pass,severity:WARNING,chain"',
    '  SecRule MATCHED_VARS_NAMES "@streq REQUEST_FILENAME" "setenv:seen=%{rule.id}"',
    'SecRule ENV:seen "@streq 1" "id:2,phase:1,pass,severity:ERROR"',
    'SecRule HIGHEST_SEVERITY "@eq 3" "id:3,phase:1,pass"',
  ].join('\n');
  assert.deepEqual(run(rules).matchedRuleIds(), [1, 2, 3]);
});

test('allow:request skips the rest of the request phases, response phases still run', () => {
  const rules = ['SecAction "id:1,phase:1,allow:request"', 'SecAction "id:2,phase:2,deny"', 'SecAction "id:3,phase:3,pass"'].join('\n');
  const tx = run(rules);
  assert.equal(tx.interruption, null);
  assert.deepEqual(tx.matchedRuleIds(), [1, 3]);
});

test('SecRuleUpdateTargetByTag and ctl:ruleRemoveTargetByTag exclude arguments', () => {
  const rules = [
    'SecRule ARGS "@rx ." "id:1,phase:1,pass,tag:app/a"',
    'SecRule ARGS "@rx ." "id:2,phase:1,pass,tag:app/b"',
    'SecRuleUpdateTargetByTag "^app/a$" "!ARGS:x"',
    'SecAction "id:3,phase:1,pass,nolog,ctl:ruleRemoveTargetByTag=^app/b$;ARGS:x"',
    'SecRule ARGS "@rx ." "id:4,phase:1,pass,tag:app/b"',
  ].join('\n');
  // Rule 2 ran before the ctl; rule 4 after it.
  assert.deepEqual(run(rules).matchedRuleIds(), [2]);
});

test('deprecatevar lowers a persistent counter over time', () => {
  let now = 0;
  const store = new CollectionStore(10, () => now);
  const policy = compileSecLang(
    'SecRuleEngine On\nSecAction "id:1,phase:1,pass,nolog,initcol:ip=%{remote_addr},deprecatevar:ip.score=10/60"\nSecAction "id:2,phase:5,pass,nolog,setvar:ip.score=+30"',
  );
  const once = () => {
    const tx = new Transaction(policy, { id: 'd', clientIp: '192.0.2.1', clientPort: 1, serverIp: '10.0.0.1', serverPort: 80, store });
    tx.processRequestHeaders({ method: 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [] });
    tx.processLogging();
    return tx.persistent.get('IP')!.get('score');
  };
  assert.equal(once(), '30');
  now += 125_000; // two 60 s periods: 30 - 20 = 10, then +30
  assert.equal(once(), '40');
});

test('logdata expands once the rule matched: capture and MATCHED_VAR_NAME of the last matching value', () => {
  const tx = run('SecRule ARGS "@rx ^(\\d)$" "id:1,phase:1,pass,capture,logdata:\'%{TX.1} in %{MATCHED_VAR_NAME}\'"', [['Host', 'x']], '/?a=1&b=22&c=3');
  const m = tx.matches.find((x) => x.ruleId === 1)!;
  assert.deepEqual(m.matched.map((v) => v.name), ['ARGS:a', 'ARGS:c']);
  assert.equal(m.logdata, '3 in ARGS:c');
});
