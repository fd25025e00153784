import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidHostValue, validateRequestHead } from '../../src/pipeline/request-validation.js';

const H = (...pairs: string[]) => pairs;

test('valid Host values', () => {
  for (const v of ['localhost', 'shop.example.com', 'EXAMPLE.com:8080', 'a', '127.0.0.1', '127.0.0.1:80', '[::1]', '[::1]:443',
    '[2001:db8::10]:8443', '[::ffff:10.0.0.1]', 'under_score.example', 'xn--bcher-kva.example', 'host:0', 'h:65535']) {
    assert.equal(isValidHostValue(v), true, v);
  }
});

test('invalid Host values', () => {
  for (const v of ['', 'localhost%00', 'local host', 'a\u0000b', 'a/b', 'a@b', 'a:', ':80', 'a:123456', 'a:8o', '[::1', '[]',
    '[::1]x', '[g::1]', 'a:80:80', 'ex\u00e4mple.com', 'a,b', "a'b", 'a;b', '\t', 'a b:80']) {
    assert.equal(isValidHostValue(v), false, JSON.stringify(v));
  }
});

test('validateRequestHead: version', () => {
  assert.equal(validateRequestHead('/', 1, 1, H('Host', 'a')), null);
  assert.equal(validateRequestHead('/', 1, 0, H()), null);
  assert.equal(validateRequestHead('/', 0, 9, H('Host', 'a'))?.code, 'PORTCULLIS_BAD_VERSION');
  assert.equal(validateRequestHead('/', 2, 0, H('Host', 'a'))?.code, 'PORTCULLIS_BAD_VERSION');
  assert.equal(validateRequestHead('/', 1, 2, H('Host', 'a'))?.code, 'PORTCULLIS_BAD_VERSION');
});

test('validateRequestHead: fragment in the target', () => {
  assert.equal(validateRequestHead('/index.html:80?I=Like&Apples=Today#tag', 1, 1, H('Host', 'a'))?.code, 'PORTCULLIS_TARGET_FRAGMENT');
  assert.equal(validateRequestHead('/#', 1, 1, H('Host', 'a'))?.code, 'PORTCULLIS_TARGET_FRAGMENT');
  assert.equal(validateRequestHead('/a?b=%23', 1, 1, H('Host', 'a')), null);
});

test('validateRequestHead: Host', () => {
  assert.equal(validateRequestHead('/', 1, 1, H('User-Agent', 'x')), null, 'missing Host is the pipeline\'s (missing-host)');
  assert.equal(validateRequestHead('/', 1, 1, H('Host', 'a', 'HOST', 'b'))?.code, 'PORTCULLIS_DUPLICATE_HOST');
  assert.equal(validateRequestHead('/', 1, 1, H('host', 'a', 'x', 'y', 'Host', 'a'))?.code, 'PORTCULLIS_DUPLICATE_HOST');
  assert.equal(validateRequestHead('/', 1, 1, H('Host', ''))?.code, 'PORTCULLIS_INVALID_HOST');
  assert.equal(validateRequestHead('/', 1, 1, H('Host', 'localhost%00'))?.code, 'PORTCULLIS_INVALID_HOST');
  assert.equal(validateRequestHead('/', 1, 0, H('Host', 'bad host'))?.code, 'PORTCULLIS_INVALID_HOST');
  assert.equal(validateRequestHead('/', 1, 1, H('hOsT', 'shop.example.com:8080')), null);
});

test('validateRequestHead: CONNECT needs host:port', () => {
  assert.equal(validateRequestHead('1.2.3.4:80', 1, 1, H('Host', 'a'), true), null);
  assert.equal(validateRequestHead('www.cnn.com:443', 1, 1, H('Host', 'a'), true), null);
  assert.equal(validateRequestHead('[::1]:443', 1, 1, H('Host', 'a'), true), null);
  assert.equal(validateRequestHead('www.cnn.com', 1, 1, H('Host', 'a'), true)?.code, 'PORTCULLIS_BAD_CONNECT_TARGET');
  assert.equal(validateRequestHead('www.cnn.com:', 1, 1, H('Host', 'a'), true)?.code, 'PORTCULLIS_BAD_CONNECT_TARGET');
  assert.equal(validateRequestHead('/path:80', 1, 1, H('Host', 'a'), true)?.code, 'PORTCULLIS_BAD_CONNECT_TARGET');
  assert.equal(validateRequestHead('www.cnn.com', 1, 1, H('Host', 'a'), false), null, 'only for CONNECT');
});
