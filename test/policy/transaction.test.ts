import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSecLang } from '../../src/policy/seclang/parser.js';
import { Transaction, type RequestHead } from '../../src/policy/transaction.js';
import { CollectionStore } from '../../src/policy/collection-store.js';

const BASE = 'SecRuleEngine On\nSecRequestBodyAccess On\n';

function run(rules: string, req: Partial<RequestHead> & { body?: string } = {}, opts: { store?: CollectionStore; engine?: 'On' | 'DetectionOnly' } = {}) {
  const policy = compileSecLang(BASE + rules, 'test.conf');
  const tx = new Transaction(policy, {
    id: 'tx-1',
    clientIp: '192.0.2.7',
    clientPort: 5555,
    serverIp: '198.51.100.1',
    serverPort: 80,
    store: opts.store ?? new CollectionStore(),
    ...(opts.engine ? { ruleEngine: opts.engine } : {}),
  });
  let it = tx.processRequestHeaders({
    method: req.method ?? 'GET',
    uri: req.uri ?? '/',
    protocol: req.protocol ?? 'HTTP/1.1',
    headers: req.headers ?? [['Host', 'example.com']],
  });
  if (!it) it = tx.processRequestBody(req.body ?? '', true);
  tx.processLogging();
  return { tx, it, ids: tx.matches.map((m) => m.ruleId) };
}

test('request line variables and argument parsing', () => {
  const { tx } = run('', { uri: 'http://example.com/a/b%20c.php?x=1&y=%41+b&flag&x=2' });
  assert.equal(tx.scalars.get('REQUEST_URI')!.value, '/a/b%20c.php?x=1&y=%41+b&flag&x=2');
  assert.equal(tx.scalars.get('REQUEST_URI_RAW')!.value, 'http://example.com/a/b%20c.php?x=1&y=%41+b&flag&x=2');
  assert.equal(tx.scalars.get('REQUEST_FILENAME')!.value, '/a/b c.php');
  assert.equal(tx.scalars.get('REQUEST_BASENAME')!.value, 'b c.php');
  assert.equal(tx.scalars.get('QUERY_STRING')!.value, 'x=1&y=%41+b&flag&x=2');
  assert.deepEqual(tx.argsGet.all().map((e) => [e.key, e.value]), [['x', '1'], ['y', 'A b'], ['flag', ''], ['x', '2']]);
});

test('selectors: key (case-insensitive), regex, count and exclusion', () => {
  const rules = [
    'SecRule REQUEST_HEADERS:user-agent "@rx curl" "id:1,phase:1,pass"',
    'SecRule &ARGS:x "@eq 2" "id:2,phase:1,pass"',
    'SecRule ARGS|!ARGS:x "@rx ^2$" "id:3,phase:1,pass"',
    'SecRule ARGS:/^y/ "@rx ^1$" "id:4,phase:1,pass"',
    'SecRule &ARGS "@eq 3" "id:5,phase:1,pass"',
    'SecRule &REQUEST_HEADERS:X-Missing "@eq 0" "id:6,phase:1,pass"',
    'SecRule ARGS:x "@rx ^1$" "id:7,phase:1,pass"',
  ].join('\n');
  const { ids, tx } = run(rules, { uri: '/?x=1&x=2&yy=1', headers: [['User-Agent', 'curl/8']] });
  assert.deepEqual(ids, [1, 2, 4, 5, 6, 7]);
  assert.equal(tx.matches.find((m) => m.ruleId === 4)!.matched[0]!.name, 'ARGS:yy');
});

test('setvar: macros, arithmetic, delete; msg/logdata expanded at match time', () => {
  const rules = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=5,setvar:tx.name=%{request_headers.host}"',
    'SecAction "id:2,phase:1,pass,nolog,setvar:tx.score=+3,setvar:tx.gone=1,setvar:!tx.gone"',
    'SecRule ARGS "@rx evil" "id:3,phase:1,pass,msg:\'Score %{tx.score} on %{tx.name}\',logdata:\'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}\',setvar:tx.score=-1,setvar:\'tx.%{rule.id}-hit=%{MATCHED_VAR}\'"',
  ].join('\n');
  const { tx } = run(rules, { uri: '/?q=evil1&r=evil2' });
  // setvar runs once per matched value (ModSecurity v2): 8 - 1 - 1.
  assert.equal(tx.txVars.get('score'), '6');
  assert.equal(tx.txVars.get('name'), 'example.com');
  assert.equal(tx.txVars.get('gone'), undefined);
  assert.equal(tx.txVars.get('3-hit'), 'evil2');
  const m = tx.matches.find((x) => x.ruleId === 3)!;
  assert.equal(m.msg, 'Score 6 on example.com');
  assert.equal(m.logdata, 'ARGS:r=evil2');
  assert.deepEqual(m.matched.map((v) => v.name), ['ARGS:q', 'ARGS:r']);
  assert.equal(m.log, true);
  assert.equal(tx.matches.find((x) => x.ruleId === 1)!.log, false);
});

test('chain: all links must match; capture fills TX:0..n for later links', () => {
  const rules = [
    'SecRule ARGS:a "@rx ^(\\w+)-(\\d+)$" "id:1,phase:1,pass,capture,chain"',
    '  SecRule TX:2 "@eq 42" "setvar:tx.chained=%{tx.1}"',
    'SecRule ARGS:a "@rx ^x" "id:2,phase:1,pass,chain"',
    '  SecRule ARGS:b "@rx never"',
  ].join('\n');
  const { ids, tx } = run(rules, { uri: '/?a=abc-42&b=1' });
  assert.deepEqual(ids, [1]);
  assert.equal(tx.txVars.get('chained'), 'abc');
  assert.equal(tx.txVars.get('0'), 'abc-42');
});

test('a chained rule on MATCHED_VARS sees the starter\'s matches (and terminates)', () => {
  const rules = [
    'SecRule ARGS "@rx fun" "id:1,phase:1,pass,chain"',
    '  SecRule MATCHED_VARS "@rx \\(" "setvar:tx.hits=+1"',
  ].join('\n');
  const { ids, tx } = run(rules, { uri: '/?a=fun(&b=fun&c=x' });
  assert.deepEqual(ids, [1]);
  assert.equal(tx.txVars.get('hits'), '1');
  assert.deepEqual(tx.matches[0]!.matched.map((m) => m.name), ['ARGS:a', 'ARGS:b', 'MATCHED_VARS:ARGS:a']);
});

test('skip and skipAfter follow rule order within a phase', () => {
  const rules = [
    'SecAction "id:1,phase:1,pass,skip:1"',
    'SecAction "id:2,phase:1,pass"',
    'SecAction "id:3,phase:1,pass,skipAfter:END"',
    'SecAction "id:4,phase:1,pass"',
    'SecMarker END',
    'SecAction "id:5,phase:1,pass"',
    'SecAction "id:6,phase:2,pass,skipAfter:NOWHERE"',
    'SecAction "id:7,phase:2,pass"',
    // A rule id is a target too; a target before the rule skips the rest of the phase.
    'SecAction "id:10,phase:1,pass,skipAfter:11"',
    'SecAction "id:11,phase:1,pass"',
    'SecAction "id:12,phase:1,pass"',
    // Two skipAfter actions: the last one run wins (END is behind, 15 ahead).
    'SecAction "id:14,phase:1,pass,skipAfter:END,skipAfter:15"',
    'SecAction "id:15,phase:1,pass"',
    'SecAction "id:16,phase:1,pass"',
    'SecMarker BACK',
    'SecAction "id:8,phase:5,pass,skipAfter:BACK"',
    'SecAction "id:9,phase:5,pass"',
  ].join('\n');
  assert.deepEqual(run(rules).ids, [1, 3, 5, 10, 12, 14, 16, 6, 8]);
});

test('block takes SecDefaultAction; deny interrupts in On, not in DetectionOnly', () => {
  const rules = [
    'SecDefaultAction "phase:1,log,auditlog,deny,status:406"',
    'SecRule ARGS "@rx attack" "id:1,phase:1,block"',
    'SecAction "id:2,phase:1,pass"',
  ].join('\n');
  const on = run(rules, { uri: '/?a=attack' });
  assert.deepEqual(on.it, { action: 'deny', status: 406, ruleId: 1, location: null });
  assert.deepEqual(on.ids, [1]);
  const det = run(rules, { uri: '/?a=attack' }, { engine: 'DetectionOnly' });
  assert.equal(det.it, null);
  assert.deepEqual(det.ids, [1, 2]);
  assert.equal(det.tx.matches[0]!.interrupted, false);
});

test('drop, redirect and allow', () => {
  assert.equal(run('SecAction "id:1,phase:1,drop"').it!.action, 'drop');
  const r = run('SecAction "id:1,phase:1,redirect:https://x.test/%{tx.none}blocked"');
  assert.deepEqual(r.it, { action: 'redirect', status: 302, ruleId: 1, location: 'https://x.test/blocked' });
  const a = run('SecAction "id:1,phase:1,allow"\nSecAction "id:2,phase:1,deny"\nSecAction "id:3,phase:2,deny"\nSecAction "id:4,phase:5,pass"');
  assert.equal(a.it, null);
  assert.deepEqual(a.ids, [1, 4]);
  const ap = run('SecAction "id:1,phase:1,allow:phase"\nSecAction "id:2,phase:1,deny"\nSecAction "id:3,phase:2,pass"');
  assert.deepEqual(ap.ids, [1, 3]);
});

test('ctl: ruleRemoveById (range), ruleRemoveTargetById, ruleRemoveByTag, ruleEngine', () => {
  const rules = [
    'SecAction "id:1,phase:1,pass,ctl:ruleRemoveById=10-11,ctl:ruleRemoveTargetById=12;ARGS:skipme,ctl:ruleRemoveByTag=^gone$"',
    'SecRule ARGS "@rx x" "id:10,phase:1,pass"',
    'SecRule ARGS "@rx x" "id:11,phase:1,pass"',
    'SecRule ARGS "@rx x" "id:12,phase:1,pass"',
    'SecRule ARGS "@rx x" "id:13,phase:1,pass,tag:gone"',
    'SecAction "id:14,phase:1,pass,ctl:ruleEngine=Off"',
    'SecAction "id:15,phase:1,deny"',
  ].join('\n');
  const r = run(rules, { uri: '/?skipme=x' });
  assert.deepEqual(r.ids, [1, 14]);
  const r2 = run(rules, { uri: '/?skipme=x&other=x' });
  assert.deepEqual(r2.ids, [1, 12, 14]);
  assert.deepEqual(r2.tx.matches[1]!.matched.map((m) => m.name), ['ARGS:other']);
});

test('transformations apply in order; t:none drops inherited ones; multiMatch sees every stage', () => {
  const rules = [
    'SecDefaultAction "phase:1,log,pass,t:lowercase"',
    'SecRule ARGS:a "@streq abc" "id:1,phase:1"',
    'SecRule ARGS:a "@streq abc" "id:2,phase:1,t:none"',
    'SecRule ARGS:a "@streq ABC" "id:3,phase:1,t:none,t:urlDecode,multiMatch"',
    'SecRule ARGS:a "@streq A%42C" "id:4,phase:1,t:none,t:urlDecode,multiMatch"',
  ].join('\n');
  const r = run(rules, { uri: '/?a=ABC' });
  assert.deepEqual(r.ids, [1, 3]);
  const r2 = run(rules, { uri: '/?a=A%2542C' });
  // ARGS decoding gives "A%42C"; urlDecode gives "ABC": multiMatch tries both.
  assert.deepEqual(r2.ids, [3, 4]);
});

test('transformed values are cached per transaction (same chain, same entry)', () => {
  const rules = [
    'SecRule ARGS:a "@rx ^abc$" "id:1,phase:1,pass,t:none,t:lowercase"',
    'SecRule ARGS:a "@rx ^abc$" "id:2,phase:1,pass,t:none,t:lowercase"',
  ].join('\n');
  const { tx, ids } = run(rules, { uri: '/?a=ABC' });
  assert.deepEqual(ids, [1, 2]);
  const e = tx.argsGet.byKey('a')[0]!;
  assert.ok(e.cache !== null && [...e.cache.values()].includes('abc'));
});

test('request body: urlencoded arguments become ARGS_POST; REQUEST_BODY is kept', () => {
  const rules = 'SecRule ARGS_POST:user "@streq admin" "id:1,phase:2,pass"\nSecRule REQUEST_BODY "@rx pw=" "id:2,phase:2,pass"';
  const r = run(rules, { method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'user=admin&pw=x' });
  assert.deepEqual(r.ids, [1, 2]);
  assert.equal(r.tx.scalars.get('REQBODY_ERROR')!.value, '0');
});

test('persistent collections: initcol, setvar, expirevar, shared through the store', () => {
  let now = 1_000_000;
  const store = new CollectionStore(2, () => now);
  const rules = [
    'SecAction "id:1,phase:1,pass,nolog,initcol:ip=%{remote_addr},setvar:ip.count=+1,expirevar:ip.count=10"',
    'SecRule IP:count "@ge 2" "id:2,phase:1,pass"',
  ].join('\n');
  assert.deepEqual(run(rules, {}, { store }).ids, [1]);
  assert.deepEqual(run(rules, {}, { store }).ids, [1, 2]);
  now += 11_000;
  assert.deepEqual(run(rules, {}, { store }).ids, [1]);
  assert.equal(store.size('IP'), 1);
});

test('collection store is bounded (LRU eviction)', () => {
  const store = new CollectionStore(2);
  store.open('IP', 'a', 600);
  store.open('IP', 'b', 600);
  store.open('IP', 'a', 600);
  store.open('IP', 'c', 600);
  assert.equal(store.size('IP'), 2);
  assert.equal(store.open('IP', 'a', 600).get('key'), 'a');
});

test('engine Off evaluates nothing', () => {
  const policy = compileSecLang('SecRuleEngine Off\nSecAction "id:1,phase:1,deny"');
  const tx = new Transaction(policy, { id: 't', clientIp: '1.1.1.1', clientPort: 1, serverIp: '2.2.2.2', serverPort: 2, store: new CollectionStore() });
  assert.equal(tx.processRequestHeaders({ method: 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [] }), null);
  assert.equal(tx.matches.length, 0);
});

test('response phases: headers, body by MIME type', () => {
  const policy = compileSecLang(BASE + 'SecResponseBodyAccess On\nSecRule RESPONSE_STATUS "@streq 500" "id:1,phase:3,pass"\nSecRule RESPONSE_BODY "@rx secret" "id:2,phase:4,deny"');
  const tx = new Transaction(policy, { id: 't', clientIp: '1.1.1.1', clientPort: 1, serverIp: '2.2.2.2', serverPort: 2, store: new CollectionStore() });
  tx.processRequestHeaders({ method: 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [] });
  tx.processRequestBody('', true);
  assert.equal(tx.processResponseHeaders({ status: 500, protocol: 'HTTP/1.1', headers: [['Content-Type', 'text/html; charset=utf-8']] }), null);
  assert.equal(tx.wantsResponseBody(), true);
  assert.equal(tx.processResponseBody('the secret', true)!.ruleId, 2);
  assert.deepEqual(tx.matchedRuleIds(), [1, 2]);
});

test('value filter: raw values are skipped only when no transformation can produce the bytes the operator needs', () => {
  const rules = [
    // '<' arrives percent-encoded, entity-encoded or JS-escaped: the raw value has no '<' but must still match.
    'SecRule ARGS "@rx <script" "id:1,phase:1,pass,t:none,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:lowercase"',
    // cmdLine turns ',' into a space: the raw value has no space.
    'SecRule ARGS:c "@rx cat x" "id:2,phase:1,pass,t:none,t:cmdLine"',
    // A negated operator is never filtered: "cannot match" means the rule matches.
    'SecRule ARGS:n "!@rx [<>]" "id:3,phase:1,pass"',
    // multiMatch sees the raw value too.
    'SecRule ARGS:m "@rx \'" "id:4,phase:1,pass,multiMatch,t:none,t:urlDecodeUni,t:removeNulls"',
    // Nothing can produce '<' from this value through these transformations: no match.
    'SecRule ARGS:plain "@rx <" "id:5,phase:1,pass,t:none,t:urlDecodeUni,t:lowercase"',
    // base64Decode can produce any byte: no filter, still matches.
    'SecRule ARGS:b "@rx <x>" "id:6,phase:1,pass,t:none,t:base64Decode"',
  ].join('\n');
  for (const [uri, expected] of [
    ['/?a=%253Cscript%253E', [1]],
    ['/?a=%26lt;SCRIPT', [1]],
    ['/?a=%5Cx3cscript', [1]],
    ['/?c=cat,x', [2]],
    ['/?n=plain', [3]],
    ['/?m=%27', [4]],
    ['/?m=%2527', [4]],
    ['/?plain=abc', []],
    ['/?b=PHg%2B', [6]],
  ] as const) {
    const { ids } = run(rules, { uri });
    assert.deepEqual(ids, expected, uri);
  }
});
