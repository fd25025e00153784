import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSecLang, type CompiledPolicy } from '../../src/policy/seclang/parser.js';
import { Transaction } from '../../src/policy/transaction.js';
import { CollectionStore } from '../../src/policy/collection-store.js';
import { MAX_MEMO_VALUE, WordSlab } from '../../src/policy/no-match-memo.js';
import type { Rule } from '../../src/policy/rule.js';

const BASE = 'SecRuleEngine On\nSecRequestBodyAccess On\n';
const store = new CollectionStore();
let n = 0;

function request(policy: CompiledPolicy, uri: string, headers: [string, string][] = [['Host', 'example.com']]) {
  const tx = new Transaction(policy, { id: `tx-${++n}`, clientIp: '192.0.2.7', clientPort: 5555, serverIp: '198.51.100.1', serverPort: 80, store });
  tx.processRequestHeaders({ method: 'GET', uri, protocol: 'HTTP/1.1', headers });
  tx.processLogging();
  return { ids: tx.matches.map((m) => m.ruleId), tx };
}

/** Counts the operator calls of the rule with this id (the operator object is the rule's own). */
function countCalls(policy: CompiledPolicy, id: number): { calls: number } {
  const rule = policy.phases.flat().find((r: Rule) => r.id === id)!;
  const op = rule.operator!.op as { evaluate: (otx: unknown, v: string) => boolean };
  const counter = { calls: 0 };
  const inner = op.evaluate;
  op.evaluate = (otx, v) => {
    counter.calls++;
    return inner(otx, v);
  };
  return counter;
}

test('no-match memo: a pure link is not evaluated again on a value it did not match; matches are', () => {
  // setenv keeps the rule out of replay (tx-replay.ts), which would answer a repeated request whole.
  const policy = compileSecLang(BASE + 'SecRule ARGS "@rx ^evil" "id:1,phase:1,pass,capture,t:none,t:lowercase,setvar:tx.seen=%{tx.0},setenv:seen=1"', 'memo.conf');
  const c = countCalls(policy, 1);
  assert.deepEqual(request(policy, '/?a=hello').ids, []);
  assert.equal(c.calls, 1);
  // Same value again, in another transaction and another argument: remembered, not evaluated.
  assert.deepEqual(request(policy, '/?b=hello').ids, []);
  assert.equal(c.calls, 1);
  // A matching value is evaluated every time, with its capture and actions.
  for (let i = 0; i < 2; i++) {
    const { ids, tx } = request(policy, '/?a=hello&b=EVIL1');
    assert.deepEqual(ids, [1]);
    assert.equal(tx.txVars.get('seen'), 'evil');
    assert.equal(tx.matches[0]!.matched[0]!.name, 'ARGS:b');
  }
  assert.equal(c.calls, 3);
  assert.ok(policy.noMatchMemo.size >= 1);
});

test('no-match memo: an operator with a macro parameter is evaluated on every request', () => {
  const policy = compileSecLang(
    BASE + ['SecRule REQUEST_HEADERS:X-Want "@rx ." "id:1,phase:1,pass,nolog,capture,setvar:tx.want=%{tx.0}"', 'SecRule ARGS:a "@streq %{tx.want}" "id:2,phase:1,pass"'].join('\n'),
    'memo.conf',
  );
  const c = countCalls(policy, 2);
  assert.deepEqual(request(policy, '/?a=y', [['X-Want', 'x']]).ids, [1]);
  // The same value now matches: the answer depends on TX, so it must not have been remembered.
  assert.deepEqual(request(policy, '/?a=y', [['X-Want', 'y']]).ids, [1, 2]);
  assert.equal(c.calls, 2);
});

test('no-match memo: negated operators, multiMatch and chains keep their answers', () => {
  const policy = compileSecLang(
    BASE +
      [
        'SecRule ARGS:n "!@rx ^[a-z]+$" "id:1,phase:1,pass"',
        'SecRule ARGS:m "@rx \'" "id:2,phase:1,pass,multiMatch,t:none,t:urlDecodeUni"',
        'SecRule ARGS:c "@rx ^go" "id:3,phase:1,pass,chain"',
        '  SecRule ARGS:d "@rx ^on$" ""',
      ].join('\n'),
    'memo.conf',
  );
  const expect = (uri: string, ids: number[]) => {
    // Twice: the second run answers from the memo where it can.
    assert.deepEqual(request(policy, uri).ids, ids, uri);
    assert.deepEqual(request(policy, uri).ids, ids, uri);
  };
  expect('/?n=abc', []);
  expect('/?n=ab1', [1]);
  expect('/?m=%2527', [2]);
  expect('/?m=x', []);
  expect('/?c=go&d=off', []);
  expect('/?c=go&d=on', [3]);
  expect('/?c=no&d=on', []);
});

test('no-match memo: long values are not remembered', () => {
  // setenv keeps the rule out of replay (tx-replay.ts), which would answer a repeated request whole.
  const policy = compileSecLang(BASE + 'SecRule ARGS "@rx ^evil" "id:1,phase:1,pass,setenv:seen=1"', 'memo.conf');
  const c = countCalls(policy, 1);
  const long = 'a'.repeat(MAX_MEMO_VALUE + 1);
  request(policy, `/?a=${long}`);
  request(policy, `/?a=${long}`);
  assert.equal(c.calls, 2);
  assert.equal(policy.noMatchMemo.size, 0);
});

function post(policy: CompiledPolicy, uri: string, body: string) {
  const tx = new Transaction(policy, { id: `tx-${++n}`, clientIp: '192.0.2.7', clientPort: 5555, serverIp: '198.51.100.1', serverPort: 80, store });
  const headers: [string, string][] = [['Host', 'example.com'], ['Content-Type', 'application/x-www-form-urlencoded']];
  tx.processRequestHeaders({ method: 'POST', uri, protocol: 'HTTP/1.1', headers });
  tx.processRequestBody(body, true);
  tx.processLogging();
  return tx.matches.map((m) => `${m.ruleId}:${m.matched.map((v) => v.name).join(',')}`);
}

test('whole-collection skips: one unknown or filter-passing entry among known ones still matches', () => {
  const policy = compileSecLang(
    BASE +
      [
        'SecRule ARGS "@rx ^evil" "id:1,phase:1,pass"',
        'SecRule ARGS "@rx <" "id:2,phase:1,pass,t:none,t:urlDecodeUni"',
        'SecRule ARGS "@rx ^evil" "id:3,phase:2,pass"',
        'SecRule ARGS_NAMES "@rx ^x" "id:4,phase:2,pass"',
      ].join('\n'),
    'memo.conf',
  );
  // Learn the values (every link, no match), then add one value that matches.
  assert.deepEqual(post(policy, '/?a=hello&b=world', 'c=again'), []);
  assert.deepEqual(post(policy, '/?a=hello&b=world', 'c=again'), []);
  assert.deepEqual(post(policy, '/?a=hello&b=world&d=evil', 'c=again'), ['1:ARGS:d', '3:ARGS:d']);
  // '<' arrives encoded: the union of raw bytes holds '%', so the target is not skipped.
  assert.deepEqual(post(policy, '/?a=hello&b=%3C', 'c=again'), ['2:ARGS:b']);
  // Phase 2 adds body arguments: the phase-1 summary of ARGS must not hide them.
  assert.deepEqual(post(policy, '/?a=hello&b=world', 'c=evil&x1=again'), ['3:ARGS:c', '4:ARGS_NAMES:x1']);
  assert.deepEqual(post(policy, '/?a=hello&b=world', 'c=evil&x1=again'), ['3:ARGS:c', '4:ARGS_NAMES:x1']);
});

test('quick reject: a rule passed over from the table behaves as a rule that did not match (MATCHED_VARS, removal)', () => {
  const rules = (ctl: string) =>
    compileSecLang(
      BASE +
        [
          `SecRule ARGS:a "@rx ^x$" "id:1,phase:1,pass${ctl}"`,
          // Whole-collection target with a value filter: rejected from the table (no '<' in ARGS).
          'SecRule ARGS "@rx <" "id:2,phase:1,pass"',
          'SecRule MATCHED_VARS "@rx ^x$" "id:3,phase:1,pass"',
        ].join('\n'),
      'memo.conf',
    );
  // MATCHED_VARS belongs to the rule being evaluated: rule 3 never sees rule 1's match, whether rule 2
  // was passed over from the table or removed at run time.
  assert.deepEqual(request(rules(''), '/?a=x&b=y').ids, [1]);
  assert.deepEqual(request(rules(',ctl:ruleRemoveById=2'), '/?a=x&b=y').ids, [1]);
  assert.deepEqual(request(rules(',ctl:ruleRemoveById=2'), '/?a=x&b=%3C').ids, [1]);
  // With '<' present rule 2 is evaluated and matches.
  assert.deepEqual(request(rules(''), '/?a=x&b=%3C').ids, [1, 2]);
});

test('quick reject: TX:name and &TX:name targets follow the variable from request to request', () => {
  const policy = compileSecLang(
    BASE +
      [
        'SecRule REQUEST_HEADERS:X-Lvl "@rx ^(\\d+)$" "id:1,phase:1,pass,nolog,capture,setvar:tx.lvl=%{tx.1}"',
        'SecRule REQUEST_HEADERS:X-Rm "@rx ." "id:5,phase:1,pass,nolog,ctl:ruleRemoveTargetById=3;TX:flag"',
        'SecRule &REQUEST_HEADERS:X-Flag "@eq 1" "id:4,phase:1,pass,nolog,setvar:tx.flag=1"',
        'SecRule TX:lvl "@lt 1" "id:2,phase:1,pass"',
        'SecRule &TX:flag "@eq 0" "id:3,phase:1,pass"',
      ].join('\n'),
    'memo.conf',
  );
  const ids = (headers: [string, string][]) => request(policy, '/', [['Host', 'example.com'], ...headers]).ids.filter((id) => id === 2 || id === 3);
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(ids([['X-Lvl', '1'], ['X-Flag', 'y']]), []);
    assert.deepEqual(ids([['X-Lvl', '0'], ['X-Flag', 'y']]), [2]);
    assert.deepEqual(ids([['X-Lvl', '1']]), [3]);
    assert.deepEqual(ids([['X-Flag', 'y']]), []);
    // ctl removed TX:flag from rule 3: the count is 0 although the variable exists.
    assert.deepEqual(ids([['X-Lvl', '1'], ['X-Flag', 'y'], ['X-Rm', '1']]), [3]);
  }
});

test('quick reject: stored scalar targets (absent, filtered, known) and their values changing between requests', () => {
  const policy = compileSecLang(
    BASE +
      [
        'SecRule REQUEST_FILENAME|ARGS "@rx <" "id:1,phase:1,pass,t:none,t:urlDecodeUni"',
        'SecRule QUERY_STRING "@rx ^evil" "id:2,phase:1,pass"',
        'SecRule REQUEST_BODY "@rx ^evil" "id:3,phase:2,pass"',
      ].join('\n'),
    'memo.conf',
  );
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(post(policy, '/a?x=1', 'b=2'), []);
    assert.deepEqual(post(policy, '/a%3C?x=1', 'b=2'), ['1:REQUEST_FILENAME']);
    assert.deepEqual(post(policy, '/a?evil', 'b=2'), ['2:QUERY_STRING']);
    assert.deepEqual(post(policy, '/a?x=1', 'evil=1'), ['3:REQUEST_BODY']);
  }
});

test('quick reject: keyed targets, exclusions and counts (views) follow their entries from request to request', () => {
  const policy = compileSecLang(
    BASE +
      [
        // A key selector: only the User-Agent header is read.
        'SecRule REQUEST_HEADERS:User-Agent "@rx evil" "id:1,phase:1,pass"',
        // Exclusions: a cookie excluded by name or pattern never makes rule 2 match.
        'SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/^__utm/|!REQUEST_COOKIES:skip "@rx evil" "id:2,phase:1,pass"',
        // A count of a keyed view, with a pure operator: remembered per count.
        'SecRule &REQUEST_HEADERS:X-Twice "@gt 1" "id:3,phase:1,pass"',
        'SecRule &REQUEST_COOKIES|!REQUEST_COOKIES:skip "@eq 2" "id:4,phase:1,pass"',
        // The same view as rule 2 in another rule: views are shared by equal targets.
        'SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/^__utm/|!REQUEST_COOKIES:skip "@rx bad" "id:5,phase:1,pass"',
      ].join('\n'),
    'memo.conf',
  );
  const c1 = countCalls(policy, 1);
  const ids = (headers: [string, string][]) => request(policy, '/', [['Host', 'example.com'], ...headers]).ids;
  for (let round = 0; round < 3; round++) {
    // (Rule 4 counts the cookies other than "skip".)
    assert.deepEqual(ids([['User-Agent', 'curl'], ['Cookie', 'a=1; __utma=evil; skip=evil']]), [4]);
    assert.deepEqual(ids([['User-Agent', 'evil-bot'], ['Cookie', 'a=1; __utma=evil']]), [1, 4]);
    assert.deepEqual(ids([['User-Agent', 'curl'], ['Referer', 'evil'], ['Cookie', 'a=evil']]), [2]);
    assert.deepEqual(ids([['User-Agent', 'curl'], ['Cookie', '__utmz=bad; b=bad']]), [4, 5]);
    assert.deepEqual(ids([['X-Twice', '1'], ['X-Twice', '2']]), [3]);
    assert.deepEqual(ids([['X-Twice', '1']]), []);
    assert.deepEqual(ids([['Cookie', 'a=1; b=2; skip=3']]), [4]);
    assert.deepEqual(ids([['Cookie', 'a=1; skip=3']]), []);
  }
  // The User-Agent "curl" was evaluated once; later requests rejected rule 1 from the table.
  const before = c1.calls;
  assert.deepEqual(ids([['User-Agent', 'curl']]), []);
  assert.equal(c1.calls, before);
});

test('WordSlab: zeroed, independent views of the asked length, across slab ends and for large sizes', () => {
  const slab = new WordSlab();
  const rows: readonly (readonly [words: number, count: number, why: string])[] = [
    [0, 3, 'empty'],
    [1, 5, 'on-heap size'],
    [16, 5, 'largest on-heap size'],
    [17, 100, 'first slab size'],
    [24, 200, 'CRS PL1 record size: several slabs'],
    [256, 20, 'a quarter slab'],
    [257, 3, 'above a quarter slab: own buffer'],
    [5000, 2, 'larger than a slab'],
  ];
  const all: Uint32Array[] = [];
  for (const [words, count, why] of rows) {
    for (let i = 0; i < count; i++) {
      const v = slab.take(words);
      assert.equal(v.length, words, why);
      assert.ok(v.every((w) => w === 0), `${why}: zeroed`);
      all.push(v);
      v.fill(all.length); // its own mark: a view overlapping it would overwrite or show it
    }
  }
  // Every view still holds only its own writes: no two overlap.
  all.forEach((v, i) => assert.ok(v.every((w) => w === i + 1), `view ${i} (${v.length} words) kept its own mark`));
  const fresh = slab.take(24);
  assert.ok(fresh.every((w) => w === 0), 'a view after many writes is zeroed');
});

test('no-match memo: a numbered TX key finds the record of its value, the same one record() gives', () => {
  const policy = compileSecLang('SecRuleEngine On\nSecRule TX:score "@gt 5" "id:1,phase:1,pass,nolog"\n', 't.conf');
  const memo = policy.noMatchMemo;
  const id = policy.txKeys.id('score');
  assert.ok(id >= 0);
  const r1 = memo.recordOfKey(id, '1');
  assert.equal(r1, memo.record('1'));
  assert.equal(memo.recordOfKey(id, '1'), r1);
  const r2 = memo.recordOfKey(id, '2');
  assert.equal(r2, memo.record('2'));
  assert.notEqual(r2, r1);
  assert.equal(memo.recordOfKey(id, '1'), r1);
  // A number beyond the table (another policy's) still gets the value's record.
  assert.equal(memo.recordOfKey(policy.txKeys.size + 5, '2'), r2);
  // Through transactions: TX:score = 1 is learnt as a no-match and stays one; 9 matches.
  const counter = countCalls(policy, 1);
  const run = (score: string) => {
    const tx = new Transaction(policy, { id: 't', clientIp: '192.0.2.1', clientPort: 1, serverIp: '192.0.2.2', serverPort: 80, store: new CollectionStore() });
    tx.txVars.set('score', score);
    tx.processRequestHeaders({ method: 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [['Host', 'example.com']] });
    return tx.matches.map((m) => m.ruleId);
  };
  assert.deepEqual(run('1'), []);
  assert.deepEqual(run('9'), [1]);
  assert.deepEqual(run('1'), []);
  assert.deepEqual(run('9'), [1]);
  assert.ok(counter.calls <= 3, `rule 1's operator ran ${counter.calls} times`);
});

test('quick reject: transactions interleaved phase by phase each read their own request', () => {
  const rules = [
    'SecRule REQUEST_HEADERS:User-Agent "@rx evil" "id:1,phase:1,pass"',
    'SecRule ARGS "@rx attack" "id:2,phase:2,pass"',
    'SecRule REQUEST_COOKIES|!REQUEST_COOKIES:skip "@rx bad" "id:3,phase:2,pass"',
    'SecRule REQUEST_FILENAME "@rx admin" "id:4,phase:2,pass"',
  ].join('\n');
  const policy = compileSecLang(BASE + rules, 'memo.conf');
  const requests: { uri: string; headers: [string, string][] }[] = [
    { uri: '/admin?q=attack', headers: [['Host', 'h'], ['User-Agent', 'evil'], ['Cookie', 'a=bad']] },
    { uri: '/shop?q=shoes', headers: [['Host', 'h'], ['User-Agent', 'curl'], ['Cookie', 'skip=bad']] },
    { uri: '/shop?q=attack', headers: [['Host', 'h'], ['User-Agent', 'curl'], ['Cookie', 'a=ok']] },
  ];
  for (let round = 0; round < 3; round++) {
    const txs = requests.map(() => new Transaction(policy, { id: `tx-${++n}`, clientIp: '192.0.2.7', clientPort: 5555, serverIp: '198.51.100.1', serverPort: 80, store }));
    txs.forEach((tx, i) => tx.processRequestHeaders({ method: 'GET', uri: requests[i]!.uri, protocol: 'HTTP/1.1', headers: requests[i]!.headers }));
    // Phase 2 in the reverse order: each phase must read its own transaction's request.
    for (let i = txs.length - 1; i >= 0; i--) txs[i]!.processRequestBody('', true);
    for (const tx of txs) tx.processLogging();
    assert.deepEqual(txs.map((tx) => tx.matches.map((m) => m.ruleId)), [[1, 2, 3, 4], [], [2]], `round ${round}`);
  }
});
