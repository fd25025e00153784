import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SHARED_BITMAP_VALUE, MapCollection, entry, literalSelector, entryBytes, summarizeEntries, valueBytes, type EntrySummary } from '../../src/policy/collection.js';
import { presentBytes } from '../../src/policy/regex/required-bytes.js';
import { PersistentRecord } from '../../src/policy/collection-store.js';

test('MapCollection: all(), byKey() and select() follow additions, removals and value updates', () => {
  const c = new MapCollection();
  const re = /^header_name_/i;
  assert.deepEqual(c.select(re), []);
  c.set('HEADER_NAME_host', '/host/');
  c.set('anomaly_score', '0');
  assert.deepEqual(c.select(re).map((e) => e.key), ['header_name_host']);
  c.set('header_name_x-a', '/x-a/');
  assert.deepEqual(c.select(re).map((e) => e.key), ['header_name_host', 'header_name_x-a'], 'a new key is seen');
  const before = c.all();
  c.set('anomaly_score', '5');
  assert.equal(c.all(), before, 'a value update keeps the listing');
  assert.equal(c.byKey('anomaly_score')[0]!.value, '5');
  assert.equal(c.byKey('anomaly_score'), c.byKey('anomaly_score'), 'no array per read');
  c.delete('header_name_host');
  assert.deepEqual(c.select(re).map((e) => e.key), ['header_name_x-a'], 'a removed key is gone');
  assert.deepEqual(c.byKey('header_name_host'), []);
});

test('PersistentRecord: expiry (which deletes from the map directly) is seen by all() and select()', () => {
  const r = new PersistentRecord(0);
  r.set('hits', '1');
  r.set('blocked', '1');
  assert.equal(r.select(/^b/).length, 1);
  r.expiries.set('blocked', 10);
  r.purge(20);
  assert.deepEqual(r.all().map((e) => e.key), ['hits']);
  assert.deepEqual(r.select(/^b/), []);
});

test('valueBytes: the bitmap presentBytes gives, shared for values up to the bound, fresh above it', () => {
  const rows: readonly (readonly [string, string])[] = [
    ['', 'empty value: no byte'],
    ['a', 'one byte'],
    ['GET /index.html HTTP/1.1', 'ASCII text'],
    ['\0\x1f\x7f\x80\xff', 'control and high bytes'],
    ['caf\u00e9', 'latin1 byte above 0x7F'],
    ['\u0100x', 'a char above 0xFF sets every bit (not a byte string)'],
    ['x'.repeat(MAX_SHARED_BITMAP_VALUE), 'longest shared value'],
    ['y'.repeat(MAX_SHARED_BITMAP_VALUE + 1), 'too long to share'],
  ];
  for (const [value, why] of rows) {
    const b = valueBytes(value);
    assert.deepEqual(b, presentBytes(value, new Uint32Array(8)), why);
    const again = valueBytes(value.slice(0, 0) + value); // an equal string, possibly another object
    assert.deepEqual(again, b, why);
    if (value.length <= MAX_SHARED_BITMAP_VALUE) assert.equal(again, b, `${why}: shared`);
    else assert.notEqual(again, b, `${why}: not kept`);
  }
});

test('entryBytes: follows value changes without writing into a shared bitmap', () => {
  const a = entry('x', 'abc');
  const b = entry('y', 'abc');
  const shared = entryBytes(a);
  assert.equal(entryBytes(b), shared, 'equal values share one bitmap');
  const before = Uint32Array.from(shared);
  a.value = '<script>';
  assert.deepEqual(entryBytes(a), presentBytes('<script>', new Uint32Array(8)), 'recomputed for the new value');
  assert.deepEqual(shared, before, 'the shared bitmap of "abc" is unchanged');
  assert.deepEqual(entryBytes(b), before);
});

test('summarizeEntries: union of bitmaps, AND of records, an unremembered value makes nothing known, reuse clears', () => {
  const records = new Map<string, Uint32Array>([
    ['a', Uint32Array.of(0b1011, 0xff)],
    ['b', Uint32Array.of(0b0110, 0x0f)],
    ['c', Uint32Array.of(0b0010, 0x01)],
  ]);
  const unremembered = new Uint32Array(0);
  const memo = { record: (v: string): Uint32Array => records.get(v) ?? unremembered };
  const rows: readonly (readonly [values: readonly string[], known: readonly number[], why: string])[] = [
    [['a'], [0b1011, 0xff], 'one entry: its record'],
    [['a', 'b'], [0b0010, 0x0f], 'two entries: AND'],
    [['a', 'b', 'c'], [0b0010, 0x01], 'three entries'],
    [['a', 'long'], [], 'an unremembered value (empty record): nothing known'],
    [['long', 'a'], [], 'unremembered first'],
    [[], [], 'no entries'],
  ];
  let reuse: EntrySummary | null = null;
  for (const [values, known, why] of rows) {
    const list = values.map((v) => entry('k', v));
    const fresh = summarizeEntries(list, 7, memo, null);
    assert.deepEqual([...fresh.known], known, why);
    const union = new Uint32Array(8);
    for (const v of values) presentBytes(v, new Uint32Array(8)).forEach((w, i) => (union[i]! |= w));
    assert.deepEqual(fresh.bytes, union, `${why}: byte union`);
    reuse = summarizeEntries(list.map((e) => entry(e.key, e.value)), 8, memo, reuse);
    assert.deepEqual([...reuse.known], known, `${why} (reused summary)`);
    assert.deepEqual(reuse.bytes, union, `${why}: reused summary's bytes cleared first`);
    assert.equal(reuse.version, 8);
  }
  const a = records.get('a')!;
  const s = summarizeEntries([entry('k', 'a'), entry('k', 'b')], 1, memo, null);
  assert.notEqual(s.known, a, 'the first record is copied, not ANDed in place');
  assert.deepEqual([...a], [0b1011, 0xff]);
  // One entry: its own record and bitmap, shared read-only; a later summary of several entries made
  // into the same object does not clear that bitmap.
  const one = entry('k', 'a');
  const single = summarizeEntries([one], 2, memo, null);
  assert.equal(single.known, a);
  assert.equal(single.bytes, entryBytes(one));
  const sharedBefore = [...entryBytes(one)];
  const again = summarizeEntries([entry('k', 'xyz'), entry('k', 'b')], 3, memo, single);
  assert.equal(again, single);
  assert.deepEqual([...entryBytes(one)], sharedBefore, 'the shared bitmap of "a" is untouched');
  assert.notEqual(again.bytes, entryBytes(one));
  assert.deepEqual([...again.known], [], 'xyz is unremembered');
});

test('literalSelector: which key regexes become string tests, and as what', () => {
  const rows: readonly (readonly [re: RegExp, form: string | null, why: string])[] = [
    [/^header_name_/i, 'start:header_name_', 'CRS 920450'],
    [/LEAKAGE\/ERRORS/i, 'any:leakage/errors', 'escaped slash'],
    [/MULTIPART_HEADERS_CONTENT_TYPES_*/i, 'any:multipart_headers_content_types', 'a trailing x* adds nothing'],
    [/^abc*/i, 'start:ab', 'anchored start, trailing x*'],
    [/^anomaly_score$/i, 'exact:anomaly_score', 'both anchors'],
    [/_score$/i, 'end:_score', 'end anchor'],
    [/^a\.b\$/i, 'start:a.b$', 'escaped dot and dollar are literals'],
    [/^/i, 'start:', 'empty literal matches every key'],
    [/abc*$/i, null, 'x* before $ changes the match'],
    [/ab*c/i, null, 'inner quantifier'],
    [/^header_name_/, null, 'case-sensitive: not a compiled key selector'],
    [/^header_name_/iu, null, 'unicode folding'],
    [/^header_name_/im, null, 'multiline anchors'],
    [/^header_name_/gi, null, 'stateful'],
    [/^a.b/i, null, 'unescaped dot'],
    [/^a\d/i, null, 'class escape'],
    [/^a\x41/i, null, 'hex escape'],
    [/^(a|b)/i, null, 'group'],
    [/^[ab]/i, null, 'class'],
    [/^é/i, null, 'non-ASCII literal'],
    [/a\\$/i, null, 'escaped backslash before the end anchor'],
  ];
  for (const [re, form, why] of rows) {
    const sel = literalSelector(re);
    const got = sel === null ? null : `${sel.start && sel.end ? 'exact' : sel.start ? 'start' : sel.end ? 'end' : 'any'}:${sel.literal}`;
    assert.equal(got, form, `${re} — ${why}`);
    assert.equal(literalSelector(re), sel, 'remembered per regex');
  }
});

test('literalSelector: the same answer as the regex on lower-case keys, ASCII and not', () => {
  const selectors = [/^header_name_/i, /LEAKAGE\/ERRORS/i, /MULTIPART_HEADERS_CONTENT_TYPES_*/i, /^abc*/i, /^anomaly_score$/i, /_score$/i, /^a\.b\$/i, /^/i, /^k/i, /^s/i, /^i/i];
  const keys = [
    '', 'header_name_', 'header_name_host', 'x_header_name_', 'header_nam', 'leakage/errors', 'x-leakage/errors_sql',
    'multipart_headers_content_types', 'multipart_headers_content_types_x', 'multipart_headers_content_type', 'ab', 'abccc', 'a',
    'anomaly_score', 'anomaly_score_pl1', 'inbound_anomaly_score', 'a.b$', 'axb$',
    'K'.toLowerCase(), 'ſ', 'ı', 'İ'.toLowerCase(), 'ǅ'.toLowerCase(), 'header_name_ſ', 'ﬀ',
  ];
  const alphabet = ['a', 'b', 'c', 'k', 's', 'i', '_', '-', '.', '/', '$', 'ſ', 'ı', 'ǆ', '\u212a'.toLowerCase()];
  for (let n = 0; n < 2000; n++) {
    let k = '';
    const len = n % 7;
    for (let i = 0; i < len; i++) k += alphabet[(n * 7 + i * 13 + ((n >> 3) * i)) % alphabet.length]!;
    keys.push(k);
  }
  for (const re of selectors) {
    const sel = literalSelector(re)!;
    assert.ok(sel, String(re));
    for (const k of keys) assert.equal(sel.test(k), re.test(k), `${re} on ${JSON.stringify(k)}`);
  }
});

test('MapCollection.select with a literal selector: the entries the regex selects, in insertion order', () => {
  const c = new MapCollection();
  for (const k of ['HEADER_NAME_Host', 'anomaly_score', 'header_name_x', 'Leakage/Errors_SQL', 'x_header_name_y']) c.set(k, k);
  const rows: readonly (readonly [RegExp, readonly string[]])[] = [
    [/^header_name_/i, ['header_name_host', 'header_name_x']],
    [/LEAKAGE\/ERRORS/i, ['leakage/errors_sql']],
    [/_score$/i, ['anomaly_score']],
    [/^header_name_.$/i, ['header_name_x']], // not a literal: the regex itself
  ];
  for (const [re, keys] of rows) assert.deepEqual(c.select(re).map((e) => e.key), keys, String(re));
});
