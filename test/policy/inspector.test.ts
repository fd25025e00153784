import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createInspectorSet } from '../../src/policy/inspector.js';
import type { Alert } from '../../src/policy/alerts.js';
import { PolicyLoadError } from '../../src/policy/errors.js';
import type { RequestFacts } from '../../src/pipeline/inspection.js';
import { NATIVE_IDS } from '../../src/policy/native/index.js';
import { gatewayConfig, type GroupSpec } from './policy-fixtures.js';

const logger = pino({ level: 'silent' });

const RULES = [
  'SecRule ARGS:q "@rx attack" "id:100,phase:1,deny,status:403,msg:\'Attack in %{MATCHED_VAR_NAME}\',severity:CRITICAL,tag:test"',
  'SecRule ARGS_POST:p "@rx evil" "id:101,phase:2,deny,status:406,msg:\'Evil body\',logdata:\'%{MATCHED_VAR}\'"',
  'SecRule ARGS:r "@rx go" "id:102,phase:1,redirect:/blocked.html"',
  'SecRule ARGS:d "@rx x" "id:103,phase:1,drop"',
  'SecRule ARGS:n "@rx note" "id:104,phase:1,pass,setvar:tx.anomaly_score=+5,msg:\'note\'"',
  'SecRule RESPONSE_STATUS "@streq 500" "id:105,phase:3,deny"',
  'SecRule ARGS:quiet "@rx x" "id:106,phase:1,deny,nolog"',
].join('\n');

function setup(groups: GroupSpec[]) {
  const alerts: Alert[] = [];
  const set = createInspectorSet(gatewayConfig(groups), { logger, alertSink: (a) => alerts.push(a) });
  return { set, alerts };
}

let n = 0;
function facts(over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    id: `req-${++n}`,
    serverGroup: 'g',
    peerIp: '10.0.0.1',
    peerPort: 40000,
    clientIp: '192.0.2.50',
    localIp: '10.0.0.2',
    localPort: 80,
    tls: false,
    method: 'GET',
    rawTarget: '/',
    httpVersion: '1.1',
    rawHeaders: ['Host', 'shop.test:8080', 'User-Agent', 'test'],
    startedAt: Date.now(),
    ...over,
  };
}

const outcome = { status: 200, bytesIn: 0, bytesOut: 0, error: null, durationMs: 1 };

test('active mode: block, drop, redirect as decision values; alert with action taken', () => {
  const { set, alerts } = setup([{ name: 'g', operationMode: 'active', secLang: { directives: RULES } }]);
  const ins = set.get('g')!;
  assert.equal(ins.operationMode, 'active');

  const a = ins.begin(facts({ rawTarget: '/search?q=attack' }))!;
  assert.deepEqual(a.requestHeaders(), { kind: 'block', status: 403, ruleIds: ['100'] });
  assert.deepEqual(a.matchedRuleIds(), ['100']);
  a.end({ ...outcome, status: 403 });
  const alert = alerts.pop()!;
  assert.equal(alert.action, 'blocked');
  assert.deepEqual(alert.ruleIds, [100]);
  assert.deepEqual(alert.messages, ['Attack in ARGS:q']);
  assert.deepEqual(alert.severities, ['CRITICAL']);
  assert.deepEqual(alert.matchedData, ['attack']);
  assert.equal(alert.host, 'shop.test');
  assert.equal(alert.uri, '/search?q=attack');
  assert.equal(alert.clientIp, '192.0.2.50');
  assert.equal(alert.peerIp, '10.0.0.1');
  assert.equal(alert.serverGroup, 'g');
  assert.equal(alert.operationMode, 'active');
  assert.equal(alert.matches[0]!.policy, 'seclang');

  assert.deepEqual(ins.begin(facts({ rawTarget: '/?d=x' }))!.requestHeaders(), { kind: 'drop', ruleIds: ['103'] });
  const quiet = ins.begin(facts({ rawTarget: '/?quiet=x' }))!;
  assert.deepEqual(quiet.requestHeaders(), { kind: 'block', status: 403, ruleIds: ['106'] });
  quiet.end({ ...outcome, status: 403 });
  assert.deepEqual(alerts.pop()!.ruleIds, [106], 'a nolog rule that blocks is still alerted');
  assert.deepEqual(ins.begin(facts({ rawTarget: '/?r=go' }))!.requestHeaders(), { kind: 'redirect', status: 302, location: '/blocked.html', ruleIds: ['102'] });
});

test('active mode: request body phase and response phase', () => {
  const { set, alerts } = setup([{ name: 'g', operationMode: 'active', secLang: { directives: RULES } }]);
  const ins = set.get('g')!;
  const post = ins.begin(facts({ method: 'POST', rawHeaders: ['Host', 'shop.test', 'Content-Type', 'application/x-www-form-urlencoded', 'Content-Length', '6'] }))!;
  assert.deepEqual(post.requestHeaders(), { kind: 'allow' });
  // Engine defaults (modsecurity.conf-recommended): 128 KiB without files, 12.5 MiB multipart.
  assert.equal(post.requestBody.limit, 131072);
  const upload = ins.begin(facts({ method: 'POST', rawHeaders: ['Host', 'shop.test', 'Content-Type', 'multipart/form-data; boundary=x'] }))!;
  upload.requestHeaders();
  assert.equal(upload.requestBody.limit, 13107200);
  assert.equal(post.requestBody.overLimit, 'reject');
  assert.deepEqual(post.requestBodyDone(Buffer.from('p=evil'), true), { kind: 'block', status: 406, ruleIds: ['101'] });
  post.end(outcome);
  assert.equal(alerts.pop()!.matches[0]!.logdata, 'evil');

  const get = ins.begin(facts())!;
  assert.equal(get.requestHeaders().kind, 'allow');
  assert.equal(get.requestBodyDone(Buffer.alloc(0), true).kind, 'allow');
  assert.equal(get.responseHeaders({ status: 500, rawHeaders: ['Content-Type', 'text/plain'], httpVersion: '1.1' }).kind, 'block');
  get.end({ ...outcome, status: 403 });
  assert.deepEqual(alerts.pop()!.ruleIds, [105]);
});

test('simulation mode evaluates everything, alerts, and always allows', () => {
  const { set, alerts } = setup([{ name: 'g', operationMode: 'simulation', secLang: { directives: RULES }, native: { ipDeny: ['192.0.2.0/24'] } }]);
  const ins = set.get('g')!;
  const i = ins.begin(facts({ rawTarget: '/?q=attack&n=note' }))!;
  assert.deepEqual(i.requestHeaders(), { kind: 'allow' });
  // An oversized body is never rejected in simulation.
  assert.equal(i.requestBody.overLimit, 'partial');
  assert.deepEqual(i.requestBodyDone(Buffer.alloc(0), true), { kind: 'allow' });
  i.end(outcome);
  const alert = alerts.pop()!;
  assert.equal(alert.action, 'detected');
  // Native deny hit first, then both rules (the deny rule did not stop evaluation).
  assert.deepEqual(alert.ruleIds, [NATIVE_IDS.ipDeny, 100, 104]);
  assert.deepEqual(alert.matches.map((m) => m.policy), ['ip-deny', 'seclang', 'seclang']);
  assert.equal(alert.anomalyScores!.total, 5);
});

test('disabled mode: begin() returns null and nothing is alerted', () => {
  const { set, alerts } = setup([{ name: 'g', operationMode: 'disabled', secLang: { directives: RULES } }]);
  assert.equal(set.get('g')!.begin(facts({ rawTarget: '/?q=attack' })), null);
  assert.equal(alerts.length, 0);
  assert.equal(set.get('nope'), undefined);
});

test('native policies in active mode block before SecLang; clean requests make no alert', () => {
  const { set, alerts } = setup([
    {
      name: 'g',
      operationMode: 'active',
      secLang: { directives: RULES },
      native: {
        allowedMethods: ['GET', 'POST'],
        rules: [
          {
            id: 7001,
            name: 'block-debug',
            action: 'block',
            status: 451,
            match: { method: null, host: null, path: null, header: null, argument: { name: 'debug', value: { kind: 'exact', value: 'true', caseInsensitive: true } } },
            pos: { file: 'x.yaml', line: 3, col: 1 },
          },
        ],
      },
    },
  ]);
  const ins = set.get('g')!;
  const put = ins.begin(facts({ method: 'PUT', rawTarget: '/?q=attack' }))!;
  assert.deepEqual(put.requestHeaders(), { kind: 'block', status: 405, ruleIds: [String(NATIVE_IDS.allowedMethods)] });
  put.end({ ...outcome, status: 405 });
  assert.deepEqual(alerts.pop()!.ruleIds, [NATIVE_IDS.allowedMethods]);

  const dbg = ins.begin(facts({ rawTarget: '/?debug=TRUE' }))!;
  assert.equal(dbg.requestHeaders().kind, 'allow');
  assert.deepEqual(dbg.requestBodyDone(Buffer.alloc(0), true), { kind: 'block', status: 451, ruleIds: ['7001'] });
  dbg.end(outcome);
  assert.equal(alerts.pop()!.matches[0]!.policy, 'block-debug');

  const clean = ins.begin(facts())!;
  assert.equal(clean.requestHeaders().kind, 'allow');
  assert.equal(clean.requestBodyDone(Buffer.alloc(0), true).kind, 'allow');
  clean.end(outcome);
  assert.equal(alerts.length, 0);
});

test('matched data in alerts is truncated to 200 bytes', () => {
  const { set, alerts } = setup([{ name: 'g', operationMode: 'active', secLang: { directives: RULES } }]);
  const i = set.get('g')!.begin(facts({ rawTarget: `/?q=attack${'A'.repeat(500)}` }))!;
  i.requestHeaders();
  i.end(outcome);
  assert.equal(alerts.pop()!.matchedData[0]!.length, 200);
});

test('protocol violations become alerts', () => {
  const { set, alerts } = setup([{ name: 'g', operationMode: 'active', secLang: { directives: RULES } }]);
  set.protocolViolation({ id: 'v1', serverGroup: 'g', peerIp: '1.2.3.4', clientIp: '1.2.3.4', reason: 'request-smuggling', detail: 'TE and CL' });
  const a = alerts.pop()!;
  assert.equal(a.matches[0]!.source, 'protocol');
  assert.equal(a.messages[0], 'Protocol violation: request-smuggling');
  set.close();
});

test('bad SecLang and bad native config fail the whole set with every problem', () => {
  assert.throws(
    () =>
      setup([
        { name: 'a', operationMode: 'active', secLang: { directives: 'SecRule ARGS "@rx x" "id:1,phase:1,nosuch"' } },
        { name: 'b', operationMode: 'active', native: { ipAllow: ['bogus'] } },
      ]),
    (err: unknown) =>
      err instanceof PolicyLoadError &&
      err.code === 'ERR_POLICY_LOAD' &&
      err.problems.length === 2 &&
      /server group "a": unknown action "nosuch"/.test(err.problems[0]!.message) &&
      err.problems[0]!.ruleId === 1 &&
      /server group "b": native\.ipAllow/.test(err.problems[1]!.message),
  );
});
