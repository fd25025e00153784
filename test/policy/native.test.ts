import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpPrefixSet } from '../../src/policy/operators/ip-prefix-set.js';
import { rateLimitPolicy } from '../../src/policy/native/rate-limit.js';
import { customRulePolicy } from '../../src/policy/native/custom-rule.js';
import { compileNativePolicies, NATIVE_IDS, type NativeRequest } from '../../src/policy/native/index.js';
import { nativePolicies } from './policy-fixtures.js';
import { ListCollection } from '../../src/policy/collection.js';

function req(over: Partial<NativeRequest> = {}): NativeRequest {
  return { clientIp: '203.0.113.5', method: 'GET', host: 'shop.test', path: '/', rawTarget: '/', headers: [], headBytes: 40, contentLength: null, now: 0, ...over };
}

test('IpPrefixSet for client addresses: IPv4/IPv6 prefixes, single addresses, mapped addresses, garbage', () => {
  const s = IpPrefixSet.from(['10.0.0.0/8', '192.168.1.1', '2001:db8::/32', '::1', '0.0.0.0/1'], { clientAddresses: true });
  const cases: [string, boolean][] = [
    ['10.255.1.1', true],
    ['127.0.0.1', true], // 0.0.0.0/1
    ['192.168.1.1', true],
    ['192.168.1.2', false],
    ['2001:db8:ffff::1', true],
    ['2001:db9::1', false],
    ['::1', true],
    ['::2', false],
    ['::ffff:10.1.2.3', true],
    ['::FFFF:192.168.1.1', true],
    ['::ffff:192.168.1.2', false],
    ['::ffff:0:10.1.2.3', false], // not the mapped prefix
    ['[2001:db8::1]', true],
    ['fe80::1%eth0', false],
    ['[::1%lo]', true],
    ['not-an-ip', false],
    ['', false],
  ];
  for (const [ip, want] of cases) assert.equal(s.has(ip), want, ip);
  // @ipMatch keeps v2's inet_pton semantics: no family mixing.
  assert.equal(IpPrefixSet.from(['10.0.0.0/8']).has('::ffff:10.1.2.3'), false);
  assert.equal(IpPrefixSet.from(['10.0.0.0/8']).has('[10.1.2.3]'), false);
  assert.throws(() => IpPrefixSet.from(['10.0.0.0/33']), /invalid prefix length/);
  assert.throws(() => IpPrefixSet.from(['300.1.1.1']), /invalid IP address/);
  assert.throws(() => IpPrefixSet.from(['1:2:3:4:5:6:7:8:9']), /invalid IP address/);
  assert.throws(() => IpPrefixSet.from(['1::2::3']), /invalid IP address/);
});

test('built-in native policies: deny, allow, methods, sizes (with fixed ids)', () => {
  const problems: { message: string; line: number; col: number }[] = [];
  const set = compileNativePolicies(
    nativePolicies({ ipDeny: ['203.0.113.0/24'], ipAllow: ['203.0.113.0/24', '198.51.100.0/24'], allowedMethods: ['GET', 'POST'], maxUrlBytes: 10, maxHeaderBytes: 100, maxBodyBytes: 5 }),
    problems,
    { line: 1, col: 1 },
  );
  assert.deepEqual(problems, []);
  const firstHit = (r: NativeRequest) => set.policies.map((p) => p.checkHead?.(r)).find((h) => h)?.policyId ?? null;
  assert.equal(firstHit(req()), NATIVE_IDS.ipDeny);
  assert.equal(firstHit(req({ clientIp: '192.0.2.1' })), NATIVE_IDS.ipAllow);
  assert.equal(firstHit(req({ clientIp: '198.51.100.1' })), null);
  assert.equal(firstHit(req({ clientIp: '198.51.100.1', method: 'PUT' })), NATIVE_IDS.allowedMethods);
  assert.equal(firstHit(req({ clientIp: '198.51.100.1', rawTarget: '/0123456789' })), NATIVE_IDS.maxUrlBytes);
  assert.equal(firstHit(req({ clientIp: '198.51.100.1', headBytes: 101 })), NATIVE_IDS.maxHeaderBytes);
  assert.equal(firstHit(req({ clientIp: '198.51.100.1', contentLength: 6 })), NATIVE_IDS.maxBodyBytes);
  const body = set.policies.find((p) => p.id === NATIVE_IDS.maxBodyBytes)!;
  assert.equal(body.checkBody!(req(), new ListCollection(), 5), null);
  assert.equal(body.checkBody!(req(), new ListCollection(), 6)!.status, 413);
});

test('bad native entries are reported with the config position', () => {
  const problems: { message: string; line: number; col: number }[] = [];
  compileNativePolicies(nativePolicies({ ipDeny: ['10.0.0.0/99'] }), problems, { line: 7, col: 3 });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 7);
  assert.match(problems[0]!.message, /native\.ipDeny: invalid prefix length in "10\.0\.0\.0\/99"/);
});

test('rate limit: token bucket per client IP, refill over time, bounded map', () => {
  const rl = rateLimitPolicy({ requestsPerSecond: 2, burst: 3, action: 'block', status: 429 }, 2);
  const at = (ip: string, now: number) => rl.checkHead!(req({ clientIp: ip, now }));
  assert.equal(at('a', 0), null);
  assert.equal(at('a', 0), null);
  assert.equal(at('a', 0), null);
  const hit = at('a', 0)!;
  assert.equal(hit.status, 429);
  assert.equal(hit.policyId, NATIVE_IDS.rateLimit);
  assert.equal(at('a', 500), null); // one token refilled after 0.5 s at 2/s
  assert.notEqual(at('a', 500), null);
  assert.equal(at('b', 500), null);
  assert.equal(at('c', 500), null); // evicts 'a' (least recently seen)
  assert.equal(rl.size, 2);
  assert.equal(at('a', 500), null); // a fresh bucket
});

test('custom rules: all conditions must match; exact/prefix/regex; case-insensitive', () => {
  const rule = customRulePolicy({
    id: 5001,
    name: 'no-admin-from-bots',
    action: 'block',
    status: 403,
    match: {
      method: { kind: 'exact', value: 'POST', caseInsensitive: false },
      host: null,
      path: { kind: 'prefix', value: '/ADMIN', caseInsensitive: true },
      header: { name: 'User-Agent', value: { kind: 'regex', value: 'bot|crawler', caseInsensitive: true } },
      argument: null,
    },
    pos: { file: 'x', line: 1, col: 1 },
  });
  const ua = (v: string): [string, string][] => [['user-agent', v]];
  assert.equal(rule.checkHead!(req({ method: 'POST', path: '/admin/x', headers: ua('GoodBot/1') }))!.policyId, 5001);
  assert.equal(rule.checkHead!(req({ method: 'GET', path: '/admin/x', headers: ua('GoodBot/1') })), null);
  assert.equal(rule.checkHead!(req({ method: 'POST', path: '/public', headers: ua('GoodBot/1') })), null);
  assert.equal(rule.checkHead!(req({ method: 'POST', path: '/admin', headers: ua('Firefox') })), null);
  const arg = customRulePolicy({
    id: 5002,
    name: 'debug-arg',
    action: 'alert',
    status: 403,
    match: { method: null, host: { kind: 'exact', value: 'shop.test', caseInsensitive: false }, path: null, header: null, argument: { name: 'debug', value: { kind: 'exact', value: '1', caseInsensitive: false } } },
    pos: { file: 'x', line: 1, col: 1 },
  });
  const args = new ListCollection();
  args.add('Debug', '1');
  assert.equal(arg.checkHead, undefined);
  assert.equal(arg.checkBody!(req(), args, 0)!.action, 'alert');
  assert.equal(arg.checkBody!(req({ host: 'other.test' }), args, 0), null);
});
