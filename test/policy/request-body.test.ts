/** Request bodies through the transaction: each processor's output lands in the right variables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSecLang } from '../../src/policy/seclang/parser.js';
import { Transaction } from '../../src/policy/transaction.js';
import { CollectionStore } from '../../src/policy/collection-store.js';
import { ENGINE_DEFAULTS } from '../../src/policy/crs.js';

function post(rules: string, contentType: string, body: string, extra = '') {
  const policy = compileSecLang(ENGINE_DEFAULTS + extra + rules, 'body.conf');
  const tx = new Transaction(policy, { id: 'b', clientIp: '192.0.2.1', clientPort: 1, serverIp: '10.0.0.1', serverPort: 80, store: new CollectionStore() });
  tx.processRequestHeaders({ method: 'POST', uri: '/submit?g=1', protocol: 'HTTP/1.1', headers: [['Host', 'x'], ['Content-Type', contentType], ['Content-Length', String(body.length)]] });
  tx.processRequestBody(body, true);
  tx.processLogging();
  return tx;
}

test('JSON (selected by rule 200001): nested keys become ARGS_POST; REQUEST_BODY is not set', () => {
  const tx = post(
    'SecRule ARGS_POST:user.name "@streq x" "id:1,phase:2,pass"\nSecRule REQBODY_PROCESSOR "@streq JSON" "id:2,phase:2,pass"\nSecRule &REQUEST_BODY "@eq 0" "id:3,phase:2,pass"\nSecRule ARGS_NAMES "@streq g" "id:4,phase:2,pass"',
    'application/json',
    '{"user":{"name":"x","ids":[1,2]}}',
  );
  assert.deepEqual(tx.matchedRuleIds(), [1, 2, 3, 4]);
  assert.deepEqual(tx.argsPost.all().map((e) => e.key), ['user.name', 'user.ids.ids', 'user.ids.ids']);
});

test('malformed JSON sets REQBODY_ERROR and REQBODY_ERROR_MSG', () => {
  const tx = post('SecRule REQBODY_ERROR "!@eq 0" "id:1,phase:2,pass,msg:\'%{REQBODY_ERROR_MSG}\'"', 'application/json', '{"user":');
  assert.deepEqual(tx.matchedRuleIds(), [1]);
  assert.match(tx.matches.find((m) => m.ruleId === 1)!.msg, /JSON parser error/);
});

test('XML (rule 200000): XML:/* is the text, XML://@* the attribute values', () => {
  const tx = post(
    'SecRule XML:/* "@streq textmore" "id:1,phase:2,pass"\nSecRule XML://@* "@streq attr" "id:2,phase:2,pass"\nSecRule XML:/* "@streq attr" "id:3,phase:2,pass"',
    'text/xml',
    '<a b="attr">text<c>more</c></a>',
  );
  assert.deepEqual(tx.matchedRuleIds(), [1, 2]);
});

test('multipart: FILES, FILES_NAMES, FILES_SIZES, MULTIPART_PART_HEADERS by part name, flags', () => {
  const b = 'XyZ';
  const body = `--${b}\r\nContent-Disposition: form-data; name="f"; filename="a.php"\r\n\r\nhello\r\n--${b}\r\nContent-Disposition: form-data; name="t"\r\n\r\nv\r\n--${b}--\r\n`;
  const tx = post(
    [
      'SecRule FILES "@endsWith .php" "id:1,phase:2,pass"',
      'SecRule FILES_NAMES "@streq f" "id:2,phase:2,pass"',
      'SecRule FILES_SIZES:f "@eq 5" "id:3,phase:2,pass"',
      'SecRule FILES_COMBINED_SIZE "@eq 5" "id:4,phase:2,pass"',
      'SecRule &MULTIPART_PART_HEADERS:t "@eq 1" "id:5,phase:2,pass"',
      'SecRule MULTIPART_STRICT_ERROR "@eq 0" "id:6,phase:2,pass"',
      'SecRule ARGS_POST:t "@streq v" "id:7,phase:2,pass"',
      'SecRule &REQUEST_BODY "@eq 0" "id:8,phase:2,pass"',
    ].join('\n'),
    `multipart/form-data; boundary=${b}`,
    body,
  );
  assert.deepEqual(tx.matchedRuleIds(), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('no body processor: REQBODY_PROCESSOR is empty; ctl:forceRequestBodyVariable fills REQUEST_BODY', () => {
  const rules = [
    'SecRule REQBODY_PROCESSOR "!@rx (?:URLENCODED|MULTIPART|XML|JSON)" "id:1,phase:1,pass,nolog,ctl:forceRequestBodyVariable=On"',
    'SecRule REQUEST_BODY "@contains raw text" "id:2,phase:2,pass"',
  ].join('\n');
  assert.deepEqual(post(rules, 'text/plain', 'some raw text').matchedRuleIds(), [2]);
  assert.deepEqual(post(rules.split('\n')[1]!, 'text/plain', 'some raw text').matchedRuleIds(), []);
});

test('ctl:requestBodyAccess=Off leaves the body unparsed', () => {
  const tx = post('SecAction "id:1,phase:1,pass,nolog,ctl:requestBodyAccess=Off"\nSecRule ARGS_POST "@rx ." "id:2,phase:2,pass"', 'application/x-www-form-urlencoded', 'a=b');
  assert.deepEqual(tx.matchedRuleIds(), []);
  assert.equal(tx.argsPost.size, 0);
});
