/**
 * Numbered TX keys (src/policy/tx-keys.ts): which names a policy numbers, and that a transaction's slot
 * array always holds the entry its Map holds for every numbered name, whichever path changed TX (setvar,
 * deletion, captures, replayed writes, recorded writes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSecLang, type CompiledPolicy } from '../../src/policy/seclang/parser.js';
import { Transaction } from '../../src/policy/transaction.js';
import { CollectionStore } from '../../src/policy/collection-store.js';
import { TxCollection } from '../../src/policy/tx-replay.js';
import { TxKeys } from '../../src/policy/tx-keys.js';
import { MapCollection } from '../../src/policy/collection.js';

const BASE = 'SecRuleEngine On\nSecRequestBodyAccess On\n';

let n = 0;
function run(policy: CompiledPolicy, uri: string) {
  const tx = new Transaction(policy, {
    id: `tx-${++n}`, clientIp: '192.0.2.7', clientPort: 5555, serverIp: '198.51.100.1', serverPort: 80, store: new CollectionStore(),
  });
  if (!tx.processRequestHeaders({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'example.com']] })) tx.processRequestBody('', true);
  tx.processLogging();
  return tx;
}

/** Every numbered key's slot is the Map's entry for it (or both absent). */
function assertMirrored(t: TxCollection, keys: readonly string[]): void {
  for (const k of keys) {
    const id = t.keys.id(k);
    assert.ok(id >= 0, `${k} should be numbered`);
    assert.equal(t.slots[id], t.map.get(k), `slot of ${k}`);
  }
  for (let id = 0; id < t.slots.length; id++) {
    const e = t.slots[id];
    if (e !== undefined) assert.equal(t.map.get(e.key), e, `slot ${id} (${e.key}) is not in the map`);
  }
}

test('a policy numbers the capture keys, literal TX targets and literal setvar keys, not macro-made names', () => {
  const policy = compileSecLang(BASE + [
    'SecRule &TX:Paranoia_Level "@eq 0" "id:1,phase:1,pass,nolog,setvar:tx.paranoia_level=1"',
    'SecAction "id:2,phase:1,pass,nolog,setvar:TX.Anomaly_Score=0,setvar:\'tx.%{rule.id}-made=1\'"',
    'SecRule ARGS "@rx x" "id:3,phase:1,pass,nolog,chain"\n  SecRule TX:chained "@eq 1" "setvar:!tx.dropped"',
    'SecRule TX:/^pattern_/ "@rx a" "id:4,phase:1,pass,nolog"',
  ].join('\n'), 't.conf');
  const k = policy.txKeys;
  for (let i = 0; i < 10; i++) assert.equal(k.id(String(i)), i);
  for (const name of ['paranoia_level', 'anomaly_score', 'chained', 'dropped']) assert.ok(k.id(name) >= 10, name);
  assert.equal(k.id('2-made'), -1);
  assert.equal(k.id('pattern_'), -1);
  assert.equal(k.size, 14);
  assert.throws(() => k.add('late'), /sealed/);
});

test('slots mirror the map through setvar, deletion, captures and replayed writes, across transactions', () => {
  const rules = [
    'SecRule &TX:pl "@eq 0" "id:1,phase:1,pass,nolog,setvar:tx.pl=1,setvar:tx.gone=1"',
    'SecAction "id:2,phase:1,pass,nolog,setvar:tx.score=+1,setvar:!tx.gone,setvar:\'tx.%{tx.pl}-dyn=1\'"',
    'SecRule ARGS:a "@rx ^(\\w+)-(\\w+)$" "id:3,phase:1,pass,nolog,capture,setvar:tx.first=%{tx.1}"',
    'SecRule ARGS:b "@rx ^(\\w+)$" "id:4,phase:1,pass,nolog,capture"', // leaves TX.2 deleted, TX.1 replaced
    'SecRule TX:score "@ge 1" "id:5,phase:2,pass,nolog,setvar:tx.phase2=%{tx.score}"',
  ].join('\n');
  const policy = compileSecLang(BASE + rules, 't.conf');
  const numbered = ['0', '1', '2', 'pl', 'gone', 'score', 'first', 'phase2'];
  const uris = ['/?a=x-y&b=z', '/?a=x-y&b=z', '/?a=q-r', '/', '/?b=w', '/?a=x-y&b=z'];
  for (const uri of uris) {
    const tx = run(policy, uri);
    assertMirrored(tx.txVars, numbered);
    // The same values as a fresh policy (nothing replayed) gives.
    const ref = run(compileSecLang(BASE + rules, 't.conf'), uri);
    assert.deepEqual(Object.fromEntries(tx.txVars.all().map((e) => [e.key, e.value])), Object.fromEntries(ref.txVars.all().map((e) => [e.key, e.value])), uri);
  }
});

test('TxCollection: numbered and unnumbered keys, inside and outside a recording', () => {
  const keys = new TxKeys();
  keys.add('a');
  keys.add('b');
  const t = new TxCollection(keys.seal());
  t.set('A', '1'); // lower-cased, numbered
  t.setLower('free', 'x'); // unnumbered: map only
  t.setById('b', 1, '2');
  assertMirrored(t, ['a', 'b']);
  assert.equal(t.entryOf('free', -1)?.value, 'x');
  assert.equal(t.entryOf('a', 0)?.value, '1');
  t.deleteById('b', 1);
  t.deleteById('b', 1); // absent: nothing to do
  assertMirrored(t, ['a', 'b']);
  const writes: (string | null)[] = [];
  t.startRecording([], [], writes, { res: [], selected: [] });
  t.setById('b', 1, '3'); // recorded like setLower
  t.delete('a');
  t.setLower('free', 'y');
  t.stopRecording();
  assert.deepEqual(writes, ['b', '3', 'a', null, 'free', 'y']);
  assertMirrored(t, ['a', 'b']);
  assert.deepEqual(t.all().map((e) => [e.key, e.value]), [['free', 'y'], ['b', '3']]);
});

test('TX key patterns select numbered keys from the policy table and the others by test, in insertion order', () => {
  const keys = new TxKeys();
  for (const k of ['a_1', 'b_1', 'leakage/errors/x']) keys.add(k);
  const t = new TxCollection(keys.seal());
  const plain = new MapCollection();
  for (const k of ['b_1', 'a_x', 'a_1', 'leakage/errors/x', 'z', 'a_2']) {
    t.setLower(k, 'v');
    plain.setLower(k, 'v');
  }
  const patterns = [/^a_/i, /_\d$/i, /LEAKAGE\/ERRORS/i, /^(?:b|z)/i, /nothing/i];
  for (const re of patterns) {
    assert.deepEqual(t.select(re).map((e) => e.key), plain.select(re).map((e) => e.key), String(re));
  }
  assert.deepEqual(t.select(/^a_/i).map((e) => e.key), ['a_x', 'a_1', 'a_2']);
  // Added after a selection: the next selection sees it.
  t.setLower('a_3', 'v');
  t.deleteLower('a_1');
  assert.deepEqual(t.select(/^a_/i).map((e) => e.key), ['a_x', 'a_2', 'a_3']);
  assert.deepEqual(t.all().filter((e) => e.txId >= 0).map((e) => e.key), ['b_1', 'leakage/errors/x']);
});
