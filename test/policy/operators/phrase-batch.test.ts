/**
 * PhraseBatch (src/policy/operators/phrase-batch.ts) and its use by @pm/@pmFromFile on large values:
 * the batch's answer for every member must equal that member's own PhraseSet.search on every value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhraseSet } from '../../../src/policy/operators/phrase-set.js';
import { PhraseBatch, PHRASE_BATCH_MIN_SUBJECT } from '../../../src/policy/operators/phrase-batch.js';
import { phrasesFromText } from '../../../src/policy/operators/pm-from-file.js';
import { compileSecLang } from '../../../src/policy/seclang/parser.js';
import { Transaction } from '../../../src/policy/transaction.js';
import { CollectionStore } from '../../../src/policy/collection-store.js';
import { CRS_RULES_DIR } from '../policy-fixtures.js';

/** A deterministic pseudo-random generator (the corpus must be the same on every run). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function randomText(r: () => number, length: number, alphabet: string): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[Math.floor(r() * alphabet.length)]!;
  return s;
}

/** Values: random text, each member's phrases embedded (also case-changed and cut short), Latin-1 bytes. */
function corpus(sets: readonly PhraseSet[], seed: number): string[] {
  const r = rng(seed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./\\-_=&%<>()\'";:\u00e9\u00ff\u0000';
  const out: string[] = [];
  for (let i = 0; i < 200; i++) out.push(randomText(r, 1 + Math.floor(r() * 600), alphabet));
  for (const set of sets) {
    for (let k = 0; k < 12 && set.phrases.length > 0; k++) {
      const p = set.phrases[Math.floor(r() * set.phrases.length)]!;
      const pad = randomText(r, 100 + Math.floor(r() * 300), alphabet);
      const variant = k % 3 === 0 ? p.toUpperCase() : k % 3 === 1 ? p.slice(0, Math.max(1, p.length - 1)) : p;
      out.push(pad.slice(0, pad.length >> 1) + variant + pad.slice(pad.length >> 1));
    }
  }
  return out;
}

function assertSameAnswers(sets: readonly PhraseSet[], values: readonly string[]): number {
  const batch = new PhraseBatch(sets);
  assert.ok(batch.usable);
  let positives = 0;
  for (const v of values) {
    const bits = batch.scan(v);
    assert.equal(batch.answer(v), bits, 'the ring returns the scan');
    sets.forEach((set, k) => {
      const single = set.search(v) !== null;
      if (single) positives++;
      assert.equal((bits & (1 << k)) !== 0, single, `member ${k} on ${JSON.stringify(v.slice(0, 80))}…`);
    });
  }
  return positives;
}

test('phrase batch: answers equal each set\'s own search (hand-made sets, overlaps, case, suffixes)', () => {
  const sets = [
    new PhraseSet(['he', 'she', 'hers', 'his']),
    new PhraseSet(['ushers', 'ERS']),
    new PhraseSet(['x']),
    new PhraseSet(['/etc/passwd', 'boot.ini', '\u00e9t\u00e9']),
    new PhraseSet(['a', 'aa', 'aaa']),
  ];
  const values = ['', 'x', 'ushers', 'USHERS', 'h', 'zzz', '/ETC/PASSWD', 'été', 'ÉTÉ', 'aaaa', 'he said', ...corpus(sets, 7)];
  const positives = assertSameAnswers(sets, values);
  assert.ok(positives > 50, `the corpus exercises matches (${positives})`);
});

test('phrase batch: answers equal each set\'s own search on the CRS data files', (t) => {
  if (!existsSync(CRS_RULES_DIR)) {
    t.skip(`no CRS at ${CRS_RULES_DIR}`);
    return;
  }
  const files = readdirSync(CRS_RULES_DIR).filter((f) => f.endsWith('.data')).sort();
  assert.ok(files.length >= 10, 'the CRS data files are there');
  const sets = files.map((f) => new PhraseSet(phrasesFromText(readFileSync(join(CRS_RULES_DIR, f), 'utf8'))));
  // Batches of up to 8 files, as the engine groups them by size.
  for (let start = 0; start < sets.length; start += 8) {
    const group = sets.slice(start, start + 8);
    const positives = assertSameAnswers(group, corpus(group, 100 + start));
    assert.ok(positives > 20, `files ${start}..: matches exercised (${positives})`);
  }
});

test('@pm rules on a large value: only the rules whose phrases occur match, with their capture', () => {
  const policy = compileSecLang(
    [
      'SecRuleEngine On',
      'SecRule ARGS "@pm passwd shadow" "id:1,phase:1,pass,capture,setvar:tx.one=%{tx.0}"',
      'SecRule ARGS "@pm boot.ini win.ini" "id:2,phase:1,pass,t:lowercase"',
      'SecRule ARGS "@pm eval( system(" "id:3,phase:1,pass"',
    ].join('\n'),
    'phrase-batch.conf',
  );
  const run = (value: string) => {
    const tx = new Transaction(policy, { id: 't', clientIp: '192.0.2.1', clientPort: 1, serverIp: '192.0.2.2', serverPort: 80, store: new CollectionStore() });
    tx.processRequestHeaders({ method: 'GET', uri: `/?a=${encodeURIComponent(value)}`, protocol: 'HTTP/1.1', headers: [['Host', 'x']] });
    return { ids: tx.matches.map((m) => m.ruleId), one: tx.txVars.get('one') };
  };
  const pad = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(PHRASE_BATCH_MIN_SUBJECT / 27) + 1);
  assert.ok(pad.length >= PHRASE_BATCH_MIN_SUBJECT);
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(run(pad).ids, []);
    assert.deepEqual(run(`${pad}/etc/shadow${pad}`), { ids: [1], one: 'shadow' });
    assert.deepEqual(run(`${pad}C:\\BOOT.INI`).ids, [2]);
    assert.deepEqual(run(`SYSTEM(${pad}passwd`), { ids: [1, 3], one: 'passwd' });
    // Short values take the sets' own scans.
    assert.deepEqual(run('eval(x)').ids, [3]);
  }
});
