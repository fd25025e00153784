/** Pure parts of the platform layer: capability masks and sockaddr encoding. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertBridgeCapabilities,
  effectiveCapabilities,
  hasCapability,
  missingCapabilities,
  parseEffectiveCapabilities,
} from '../../src/platform/capabilities.js';
import { PlatformError } from '../../src/platform/platform-errors.js';
import { encodeSockaddr, ipFamily, ipv6Bytes } from '../../src/platform/socket-address.js';

const NET_ADMIN = 1n << 12n;
const NET_BIND = 1n << 10n;

describe('capabilities', () => {
  it('parses CapEff from a status text', () => {
    assert.equal(parseEffectiveCapabilities('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n'), 0x1ffffffffffn);
    assert.equal(parseEffectiveCapabilities('Name:\tnode\n'), null);
  });
  it('reads a status file; an unreadable one gives null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-caps-'));
    try {
      writeFileSync(join(dir, 'status'), `CapEff:\t${(NET_ADMIN | NET_BIND).toString(16).padStart(16, '0')}\n`);
      assert.equal(effectiveCapabilities(join(dir, 'status')), NET_ADMIN | NET_BIND);
      assert.equal(effectiveCapabilities(join(dir, 'missing')), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('names what is missing', () => {
    assert.equal(hasCapability(NET_ADMIN, 'CAP_NET_ADMIN'), true);
    assert.equal(hasCapability(NET_ADMIN, 'CAP_NET_BIND_SERVICE'), false);
    assert.deepEqual(missingCapabilities(NET_BIND, ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']), ['CAP_NET_ADMIN', 'CAP_NET_RAW']);
  });
  it('assertBridgeCapabilities: CAP_NET_ADMIN first, CAP_NET_BIND_SERVICE only for ports below 1024', () => {
    const code = (fn: () => void): string | null => {
      try {
        fn();
        return null;
      } catch (e) {
        assert.ok(e instanceof PlatformError);
        return e.code;
      }
    };
    assert.equal(code(() => assertBridgeCapabilities([80], 0n)), 'ERR_CAP_NET_ADMIN');
    assert.equal(code(() => assertBridgeCapabilities([80, 8080], NET_ADMIN)), 'ERR_CAP_NET_BIND_SERVICE');
    assert.equal(code(() => assertBridgeCapabilities([8080], NET_ADMIN)), null);
    assert.equal(code(() => assertBridgeCapabilities([80], NET_ADMIN | NET_BIND)), null);
    assert.equal(code(() => assertBridgeCapabilities([80], null)), null, 'unknown mask: the socket call reports');
    try {
      assertBridgeCapabilities([80], 0n);
    } catch (e) {
      assert.match((e as Error).message, /IP_TRANSPARENT needs CAP_NET_ADMIN; run as root or with AmbientCapabilities=CAP_NET_ADMIN/);
    }
  });
});

describe('sockaddr encoding', () => {
  it('IPv4: family (host order), port (network order), address', () => {
    const sa = encodeSockaddr('10.20.0.10', 443);
    assert.ok(sa);
    assert.equal(sa.bytes.length, 16);
    assert.deepEqual([...sa.bytes.subarray(0, 8)], [2, 0, 0x01, 0xbb, 10, 20, 0, 10]);
  });
  it('IPv6: 28 bytes, address at offset 8', () => {
    const sa = encodeSockaddr('fd00:20::10', 80);
    assert.ok(sa);
    assert.equal(sa.bytes.length, 28);
    assert.equal(sa.bytes.readUInt16LE(0), 10);
    assert.equal(sa.bytes.readUInt16BE(2), 80);
    assert.equal(sa.bytes.subarray(8, 24).toString('hex'), 'fd000020000000000000000000000010');
  });
  it('IPv6 text forms', () => {
    assert.equal(ipv6Bytes('::').toString('hex'), '0'.repeat(32));
    assert.equal(ipv6Bytes('::1').toString('hex'), `${'0'.repeat(31)}1`);
    assert.equal(ipv6Bytes('1::').toString('hex'), `0001${'0'.repeat(28)}`);
    assert.equal(ipv6Bytes('::ffff:10.0.0.1').toString('hex'), '00000000000000000000ffff0a000001');
    assert.equal(ipv6Bytes('2001:db8:1:2:3:4:5:6').toString('hex'), '20010db8000100020003000400050006');
  });
  it('refuses what is not an IP literal', () => {
    assert.equal(encodeSockaddr('localhost', 80), null);
    assert.equal(encodeSockaddr('fe80::1%eth0', 80), null);
    assert.equal(ipFamily('10.0.0.256'), null);
    assert.equal(ipFamily('fd00::1'), 6);
  });
});
