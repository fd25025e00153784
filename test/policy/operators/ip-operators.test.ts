import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperator, matches, RecordingTx } from './operator-harness.js';
import { IpPrefixSet } from '../../../src/policy/operators/index.js';

test('@ipMatch with addresses and CIDR prefixes, IPv4 and IPv6 (CRS uses "127.0.0.1,::1")', () => {
  const rows: Array<[string, string, boolean]> = [
    ['127.0.0.1,::1', '127.0.0.1', true], ['127.0.0.1,::1', '::1', true], ['127.0.0.1,::1', '0:0:0:0:0:0:0:1', true],
    ['127.0.0.1,::1', '127.0.0.2', false], ['127.0.0.1,::1', '::2', false],
    ['10.0.0.0/8', '10.255.1.2', true], ['10.0.0.0/8', '11.0.0.1', false],
    ['192.168.1.0/24, 172.16.0.0/12', '172.31.255.255', true], ['172.16.0.0/12', '172.32.0.0', false],
    ['0.0.0.0/0', '8.8.8.8', true], ['0.0.0.0/0', '::1', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true], ['2001:db8::/32', '2001:db9::1', false],
    ['::/0', '2001:db8::1', true], ['10.0.0.0/8', '::ffff:10.0.0.1', false],
    ['::ffff:0:0/96', '::ffff:10.0.0.1', true],
    ['10.0.0.1', '10.0.0.1/32', false], ['10.0.0.1', '', false], ['10.0.0.1', 'not an ip', false],
    ['10.0.0.1', '010.0.0.1', false], ['10.0.0.1', '10.0.0.1 ', false], ['10.0.0.1', '10.0.0.256', false],
    ['1.2.3.4/31', '1.2.3.5', true], ['1.2.3.4/32', '1.2.3.5', false],
  ];
  for (const [param, value, expected] of rows) assert.equal(matches('ipMatch', param, value), expected, `${param} ∋ ${value}`);
});

test('@ipMatch rejects bad parameters at load time', () => {
  for (const bad of ['', '10.0.0.1/33', '300.1.1.1', '::1/129', 'example.com', '1.2.3', '1:2:3:4:5:6:7:8:9', '1::2::3']) {
    assert.throws(() => createOperator('ipMatch', bad), /invalid|missing/, bad);
  }
});

test('IpPrefixSet: overlapping prefixes, size, bytes that are not addresses', () => {
  const set = IpPrefixSet.from(['10.1.2.0/24', '10.0.0.0/8', '2001:db8::/48', 'fe80::1']);
  assert.equal(set.size, 4);
  assert.equal(set.has('10.1.2.3'), true);
  assert.equal(set.has('10.200.0.1'), true);
  assert.equal(set.has('fe80::1'), true);
  assert.equal(set.has('fe80::2'), false);
  assert.equal(set.has('2001:db8:0:1::'), true, 'inside /48');
  assert.equal(set.has('2001:db8:1::'), false);
  assert.equal(set.has('\xff\x00'), false);
  assert.equal(set.has('1.2.3.4'.repeat(100000)), false);
});

test('@ipMatchFromFile (alias @ipMatchF): one entry per line, comments, file:line in errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcl-ipf-'));
  writeFileSync(join(dir, 'ips.data'), '# bad actors\n\n192.0.2.0/24\n  198.51.100.7  \n2001:db8::/32\n');
  writeFileSync(join(dir, 'bad.data'), '192.0.2.1\nnot-an-ip\n');
  const op = createOperator('ipMatchFromFile', 'ips.data', dir);
  assert.equal(op.evaluate(new RecordingTx(), '192.0.2.200'), true);
  assert.equal(op.evaluate(new RecordingTx(), '198.51.100.7'), true);
  assert.equal(op.evaluate(new RecordingTx(), '198.51.100.8'), false);
  assert.equal(op.evaluate(new RecordingTx(), '2001:db8::5'), true);
  assert.equal(createOperator('ipMatchF', 'ips.data', dir).evaluate(new RecordingTx(), '192.0.2.1'), true);
  assert.throws(() => createOperator('ipMatchFromFile', 'bad.data', dir), /bad\.data:2: invalid IP address "not-an-ip"/);
  assert.throws(() => createOperator('ipMatchFromFile', 'none.data', dir), /cannot read/);
});
