import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MapCollection } from '../../src/policy/collection.js';
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
