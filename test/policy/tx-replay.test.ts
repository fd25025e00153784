/**
 * Replay of rules whose whole input is TX (src/policy/tx-replay.ts): which rules qualify, and that a
 * replayed rule has exactly the effects an evaluation would have, across transactions of one policy,
 * including when the TX values it reads change from one transaction to the next.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSecLang, type CompiledPolicy } from '../../src/policy/seclang/parser.js';
import { Transaction } from '../../src/policy/transaction.js';
import { CollectionStore } from '../../src/policy/collection-store.js';
import { MAX_RECORDED_VALUE, replayable } from '../../src/policy/tx-replay.js';

const BASE = 'SecRuleEngine On\nSecRequestBodyAccess On\n';

function policyOf(rules: string): CompiledPolicy {
  return compileSecLang(BASE + rules, 'replay-test.conf');
}

let n = 0;
function run(policy: CompiledPolicy, uri: string, clientIp = '192.0.2.7', headers: [string, string][] = [['Host', 'example.com']]) {
  const tx = new Transaction(policy, {
    id: `tx-${++n}`, clientIp, clientPort: 5555, serverIp: '198.51.100.1', serverPort: 80, store: new CollectionStore(),
  });
  let it = tx.processRequestHeaders({ method: 'GET', uri, protocol: 'HTTP/1.1', headers });
  if (!it) it = tx.processRequestBody('', true);
  tx.processLogging();
  const txv: Record<string, string> = {};
  for (const e of tx.txVars.all()) txv[e.key] = e.value;
  return { tx, it, ids: tx.matches.map((m) => m.ruleId), txv, msgs: tx.matches.map((m) => m.msg) };
}

/** The rule with this id, from whichever phase holds it. */
function ruleById(policy: CompiledPolicy, id: number) {
  for (const list of policy.phases) for (const r of list) if (r.id === id) return r;
  throw new Error(`no rule ${id}`);
}

test('which rules qualify: TX or request-data inputs, TX-only effects', () => {
  const policy = policyOf([
    'SecRule &TX:pl "@eq 0" "id:1,phase:1,pass,nolog,setvar:tx.pl=1"',
    'SecRule TX:pl "@lt 2" "id:2,phase:1,pass,nolog,skipAfter:END"',
    'SecAction "id:3,phase:1,pass,nolog,setvar:tx.score=0,setvar:tx.total=+%{tx.score}"',
    'SecRule TX:score "@ge %{tx.pl}" "id:4,phase:1,pass,msg:\'score %{tx.score} %{MATCHED_VAR}\',setvar:\'tx.%{rule.id}-x=%{MATCHED_VAR}\'"',
    'SecRule TX:/^x/ "@rx a" "id:5,phase:1,pass,nolog"', // a key pattern over TX (recorded as a selection)
    'SecRule ARGS:a "@rx b" "id:6,phase:1,pass,nolog,capture,setvar:tx.a=%{tx.0}"', // request data
    'SecRule TX:pl "@eq 1" "id:7,phase:1,deny,status:403"', // can interrupt: replayed only when it did not match
    'SecRule REQUEST_HEADERS_NAMES "@rx ^.*$" "id:8,phase:1,pass,nolog,capture,setvar:tx.h_%{tx.0}=1,chain"\n  SecRule TX:/^h_/ "@within %{tx.bad}"',
    'SecMarker END',
    // Not replayable, each for one reason:
    'SecAction "id:10,phase:1,pass,nolog,setvar:tx.ip=%{REMOTE_ADDR}"', // a macro reads a request variable
    'SecRule TX "@rx a" "id:11,phase:1,pass,nolog"', // the whole of TX
    'SecRule TX:pl "@eq 1" "id:12,phase:1,pass,nolog,ctl:ruleRemoveById=99"', // ctl
    'SecRule MATCHED_VARS "@rx a" "id:13,phase:1,pass,nolog"', // changes under the rule
    'SecRule IP:x "@eq 1" "id:14,phase:1,pass,nolog"', // a persistent collection
    'SecRule TX:pl "@eq 1" "id:15,phase:1,pass,nolog,setvar:ip.x=1"', // writes another collection
    'SecAction "id:17,phase:1,pass,nolog,setvar:tx.last=%{MATCHED_VAR}"', // MATCHED_VAR of an earlier rule
    'SecRule TX:pl "@eq 1" "id:18,phase:1,pass,nolog,logdata:\'%{REQUEST_URI}\'"', // logdata reads the request
    'SecRule TX:pl "@eq 1" "id:19,phase:1,pass,nolog,expirevar:tx.pl=10"', // expirevar
  ].join('\n'));
  for (const id of [1, 2, 3, 4, 5, 6, 7, 8]) assert.equal(replayable(ruleById(policy, id)), true, `rule ${id} should be replayable`);
  for (const id of [10, 11, 12, 13, 14, 15, 17, 18, 19]) assert.equal(replayable(ruleById(policy, id)), false, `rule ${id} should not be replayable`);
});

test('a replayed rule has the effects of an evaluation: TX, match records, msg, skipAfter, highest severity', () => {
  const rules = [
    'SecRule &TX:pl "@eq 0" "id:1,phase:1,pass,nolog,setvar:tx.pl=1"',
    'SecAction "id:2,phase:1,pass,nolog,setvar:tx.score=0,setvar:tx.total=+5,setvar:!tx.gone"',
    'SecRule TX:total "@ge 5" "id:3,phase:1,pass,log,severity:WARNING,msg:\'total %{tx.total} (%{MATCHED_VAR_NAME})\',setvar:\'tx.%{rule.id}-seen=%{MATCHED_VAR}\'"',
    'SecRule TX:pl "@lt 2" "id:4,phase:1,pass,nolog,skipAfter:END-PL2"',
    'SecAction "id:5,phase:1,pass,nolog,setvar:tx.pl2_rules_ran=1"',
    'SecMarker END-PL2',
    'SecAction "id:6,phase:2,pass,nolog,setvar:tx.phase2=%{tx.total}"',
  ].join('\n');
  // Reference: a fresh policy per transaction never replays anything.
  const reference = run(policyOf(rules), '/');
  const policy = policyOf(rules);
  const first = run(policy, '/');
  const second = run(policy, '/');
  const third = run(policy, '/');
  for (const r of [first, second, third]) {
    assert.deepEqual(r.ids, reference.ids);
    assert.deepEqual(r.txv, reference.txv);
    assert.deepEqual(r.msgs, reference.msgs);
    assert.equal(r.tx.highestSeverity, reference.tx.highestSeverity);
  }
  assert.deepEqual(reference.ids, [1, 2, 3, 4, 6]);
  assert.equal(reference.txv['pl2_rules_ran'], undefined, 'skipAfter skipped rule 5');
  assert.equal(reference.txv['3-seen'], '5');
  assert.equal(reference.msgs[2], 'total 5 (TX:total)');
  assert.equal(reference.tx.highestSeverity, 4);
  // The records were recorded by the first transaction and replayed by the others.
  assert.ok(policy.replay[1]!.some((s) => s !== null && s.records.length > 0));
});

test('a replayable rule whose TX input changes between transactions is evaluated again, never replayed stale', () => {
  // Rule 1 (request data, not replayable) sets tx.pl from the query; rules 2-4 read it.
  const policy = policyOf([
    'SecRule ARGS:pl "@rx ^([0-9])$" "id:1,phase:1,pass,nolog,capture,setvar:tx.pl=%{tx.1}"',
    'SecRule TX:pl "@lt 2" "id:2,phase:1,pass,nolog,setvar:tx.low=yes,skipAfter:END"',
    'SecRule TX:pl "@ge 2" "id:3,phase:1,pass,nolog,setvar:tx.high=%{tx.pl}"',
    'SecMarker END',
    'SecRule &TX:low "@eq 1" "id:4,phase:1,pass,nolog,setvar:tx.summary=low-%{tx.pl}"',
  ].join('\n'));
  const expect = (pl: string) => {
    const r = run(policy, `/?pl=${pl}`);
    if (Number(pl) < 2) {
      assert.deepEqual(r.ids, [1, 2, 4], `pl=${pl}`);
      assert.equal(r.txv['low'], 'yes');
      assert.equal(r.txv['high'], undefined);
      assert.equal(r.txv['summary'], `low-${pl}`);
    } else {
      assert.deepEqual(r.ids, [1, 3], `pl=${pl}`);
      assert.equal(r.txv['low'], undefined);
      assert.equal(r.txv['high'], pl);
      assert.equal(r.txv['summary'], undefined);
    }
  };
  for (const pl of ['1', '1', '3', '3', '0', '1', '4', '1', '4']) expect(pl);
  // Without the request variable, TX:pl is absent: rules 2 and 3 see no value and do not match.
  const none = run(policy, '/');
  assert.deepEqual(none.ids, []);
});

test('a rule that reads what it wrote is replayed only when its first reads hold again', () => {
  const policy = policyOf([
    'SecRule ARGS:n "@rx ^([0-9]+)$" "id:1,phase:1,pass,nolog,capture,setvar:tx.n=%{tx.1}"',
    // Reads tx.n (+=) and writes it; the chained link reads the new value.
    'SecRule &TX:n "@ge 0" "id:2,phase:1,pass,nolog,setvar:tx.n=+1,chain"\n  SecRule TX:n "@ge 3" "setvar:tx.big=%{tx.n}"',
  ].join('\n'));
  const cases: Array<[string, string, string | undefined]> = [['/?n=1', '2', undefined], ['/?n=2', '3', '3'], ['/?n=1', '2', undefined], ['/?n=5', '6', '6'], ['/?n=5', '6', '6'], ['/', '1', undefined]];
  for (const [uri, n, big] of cases) {
    const r = run(policy, uri);
    assert.equal(r.txv['n'], n, uri);
    assert.equal(r.txv['big'], big, uri);
  }
});

test('ctl:ruleRemoveTargetById at run time turns replay off for that transaction', () => {
  const policy = policyOf([
    'SecRule ARGS:off "@streq 1" "id:1,phase:1,pass,nolog,ctl:ruleRemoveTargetById=2;TX:flag"',
    'SecAction "id:3,phase:1,pass,nolog,setvar:tx.flag=1"',
    'SecRule TX:flag "@eq 1" "id:2,phase:1,pass,nolog,setvar:tx.hit=1"',
  ].join('\n'));
  assert.equal(run(policy, '/').txv['hit'], '1');
  assert.equal(run(policy, '/').txv['hit'], '1');
  assert.equal(run(policy, '/?off=1').txv['hit'], undefined, 'the removed target is not read, so rule 2 cannot match');
  assert.equal(run(policy, '/').txv['hit'], '1');
});

test('replayed match records are shared and frozen; alerts still see them', () => {
  const policy = policyOf('SecRule &TX:x "@eq 0" "id:7,phase:1,pass,log,msg:\'no x\'"');
  const a = run(policy, '/');
  const b = run(policy, '/');
  assert.deepEqual(a.ids, [7]);
  assert.deepEqual(b.ids, [7]);
  assert.equal(b.tx.matches[0], a.tx.matches[0], 'the second transaction replays the first one\'s record');
  assert.ok(Object.isFrozen(b.tx.matches[0]));
  assert.deepEqual(b.tx.matchedRuleIds(), [7]);
});

/** The same requests through a replaying policy and through a fresh policy each (which never replays). */
function compareWithReference(rules: string, requests: ReadonlyArray<{ uri: string; headers: [string, string][] }>): void {
  const policy = policyOf(rules);
  const runOn = (p: CompiledPolicy, r: { uri: string; headers: [string, string][] }) => {
    const tx = new Transaction(p, { id: `tx-${++n}`, clientIp: '192.0.2.7', clientPort: 5555, serverIp: '198.51.100.1', serverPort: 80, store: new CollectionStore() });
    let it = tx.processRequestHeaders({ method: 'GET', uri: r.uri, protocol: 'HTTP/1.1', headers: r.headers });
    if (!it) it = tx.processRequestBody('', true);
    tx.processLogging();
    const txv: Array<[string, string]> = tx.txVars.all().map((e) => [e.key, e.value]);
    return { status: it?.status ?? 0, ids: tx.matches.map((m) => m.ruleId), txv, matched: tx.matches.map((m) => m.matched.map((v) => `${v.name}=${v.value}`)) };
  };
  for (const r of requests) assert.deepEqual(runOn(policy, r), runOn(policyOf(rules), r), `${r.uri} ${JSON.stringify(r.headers)}`);
}

test('request-data inputs: header names captured into TX and checked (CRS 920450\'s shape) replay only for the same names', () => {
  const rules = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:\'tx.restricted=/proxy/ /if/\'"',
    'SecRule REQUEST_HEADERS_NAMES "@rx ^.*$" "id:2,phase:1,block,capture,t:none,t:lowercase,setvar:\'tx.header_name_%{tx.0}=/%{tx.0}/\',chain"\n  SecRule TX:/^header_name_/ "@within %{tx.restricted}" "setvar:\'tx.bad=%{MATCHED_VAR}\'"',
    'SecRule TX:bad "@rx ." "id:3,phase:1,deny,status:403"',
  ].join('\n');
  const h = (...names: string[]): [string, string][] => [['Host', 'example.com'], ...names.map((x): [string, string] => [x, 'v'])];
  const requests = [
    { uri: '/', headers: h('Accept') },
    { uri: '/', headers: h('Accept') },
    { uri: '/', headers: h('Accept', 'Proxy') },
    { uri: '/', headers: h('Accept', 'Proxy') },
    { uri: '/', headers: h('Accept') },
    { uri: '/', headers: h('If', 'Accept') },
    { uri: '/', headers: h('Accept', 'X-If') },
    { uri: '/', headers: h('Accept') },
  ];
  compareWithReference(rules, requests);
});

test('alternating inputs (two clients\' header orders) are each replayed from their own recording', () => {
  const rules = [
    'SecRule REQUEST_HEADERS_NAMES "@rx ^.*$" "id:1,phase:1,pass,nolog,capture,t:lowercase,setvar:\'tx.seen=%{tx.seen}%{tx.0},\'"',
    'SecRule TX:seen "@rx ^host,accept," "id:2,phase:2,pass,log,msg:\'order %{tx.seen}\'"',
  ].join('\n');
  const h = (...names: string[]): [string, string][] => names.map((x): [string, string] => [x, 'v']);
  const orders = [h('Host', 'Accept', 'Cookie'), h('Accept', 'Host', 'Cookie'), h('Host', 'Cookie', 'Accept'), h('Cookie', 'Host', 'Accept'), h('Cookie', 'Accept', 'Host')];
  // A, B alternating (as two load-generator threads), then five orders: one more than a slot keeps.
  const seq = [0, 1, 0, 1, 0, 1, 2, 3, 4, 0, 4, 3, 1];
  compareWithReference(rules, seq.map((i) => ({ uri: '/', headers: orders[i]! })));
  // Replays happen: count evaluations of rule 1 while A and B alternate after one recording each.
  const policy = policyOf(rules);
  const slot = policy.replay[1]!.find((s) => s !== null)!;
  const proto = Transaction.prototype as unknown as { evaluateRule(rule: { id: number }, phase: number): void };
  const original = proto.evaluateRule;
  let evaluations = 0;
  proto.evaluateRule = function (rule, phase) {
    if (rule.id === 1) evaluations++;
    return original.call(this, rule, phase);
  };
  try {
    for (let i = 0; i < 10; i++) run(policy, '/', '192.0.2.7', orders[i % 2]!);
  } finally {
    proto.evaluateRule = original;
  }
  assert.equal(evaluations, 2, 'one recording per order, every later request replayed');
  assert.equal(slot.records.length, 2);
  assert.equal(slot.misses, 0);
  for (let i = 2; i < 5; i++) run(policy, '/', '192.0.2.7', orders[i]!);
  assert.equal(slot.records.length, 4, 'at most MAX_RECORDS recordings');
});

test('request-data inputs: argument values, counts and a deny rule that replays only its no-match', () => {
  const rules = [
    'SecRule ARGS:a "@rx ^(\\d+)$" "id:1,phase:1,pass,nolog,capture,setvar:tx.a=%{tx.1}"',
    'SecRule &ARGS "@gt 2" "id:2,phase:1,pass,log,msg:\'many\',setvar:tx.many=1"',
    'SecRule ARGS_NAMES|REQUEST_URI "@rx evil" "id:3,phase:1,deny,status:403"',
    'SecRule TX:a "@gt 5" "id:4,phase:2,pass,log,msg:\'big %{tx.a}\'"',
  ].join('\n');
  const hd: [string, string][] = [['Host', 'example.com']];
  const uris = ['/?a=1', '/?a=1', '/?a=9', '/?a=9&b=2&c=3', '/?a=9&b=2&c=3', '/?evil=1', '/?evil=1', '/?a=1', '/x?a=7', '/evil?a=7', '/x?a=7'];
  compareWithReference(rules, uris.map((uri) => ({ uri, headers: hd })));
});

test('TX key patterns: a selection that differs from the recorded one is evaluated again', () => {
  const rules = [
    'SecRule ARGS_NAMES "@rx ^f_(\\w+)$" "id:1,phase:1,pass,nolog,capture,setvar:tx.flag_%{tx.1}=%{MATCHED_VAR}"',
    'SecRule TX:/^flag_/ "@rx ^f_" "id:2,phase:1,pass,log,msg:\'%{MATCHED_VAR_NAME}\',setvar:tx.hits=+1"',
  ].join('\n');
  const hd: [string, string][] = [['Host', 'example.com']];
  const uris = ['/?f_a=1', '/?f_a=1', '/?f_b=1', '/?f_a=1&f_b=2', '/?f_a=1&f_b=2', '/?f_b=2&f_a=1', '/', '/?f_a=1'];
  compareWithReference(rules, uris.map((uri) => ({ uri, headers: hd })));
});

test('large values are never recorded: a rule over a big argument is evaluated every time, answers unchanged', () => {
  const rules = 'SecRule ARGS:a "@rx x$" "id:1,phase:1,pass,log,msg:\'ends in x\',setvar:tx.len=%{MATCHED_VAR}"';
  const policy = policyOf(rules);
  const big = 'y'.repeat(MAX_RECORDED_VALUE + 10);
  for (let i = 0; i < 6; i++) run(policy, `/?a=${big}`);
  const slot = policy.replay[1]!.find((s) => s !== null)!;
  assert.equal(slot.records.length, 0, 'no recording holds the big value');
  compareWithReference(rules, ['/?a=' + big, '/?a=' + big + 'x', '/?a=' + big, '/?a=short', '/?a=shortx', '/?a=shortx'].map((uri) => ({ uri, headers: [['Host', 'example.com']] })));
});

test('a slot that keeps missing rests longer each time, up to 1024 evaluations, however many misses', () => {
  const policy = policyOf('SecRule ARGS:a "@rx x" "id:1,phase:1,pass,nolog"');
  const slot = policy.replay[1]!.find((s) => s !== null)!;
  const rests: number[] = [];
  for (let i = 0; i < 40; i++) {
    slot.missed();
    rests.push(slot.cooldown);
  }
  assert.deepEqual(rests.slice(0, 2), [0, 0], 'two misses are forgiven');
  assert.deepEqual(rests.slice(2, 9), [16, 32, 64, 128, 256, 512, 1024]);
  assert.ok(rests.slice(9).every((r) => r === 1024), `no overflow: ${rests.slice(9).join(',')}`);
});
