import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BlockPageError, CompiledBlockPage } from '../../src/pipeline/block-page.js';

const page = { status: 403, contentType: 'text/html; charset=utf-8' };

test('built-in page quotes the incident id and escapes every substituted value', () => {
  const html = new CompiledBlockPage({ ...page, file: null }).render('id<1>', '10.0.0.1', ['942100', '"x"&']).toString();
  assert.match(html, /id&lt;1&gt;/);
  assert.match(html, /10\.0\.0\.1/);
  assert.match(html, /942100,&quot;x&quot;&amp;/);
  assert.doesNotMatch(html, /\{\{/);
});

test('template file: each placeholder substituted wherever it appears, text around kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bp-'));
  try {
    const file = join(dir, 'p.html');
    writeFileSync(file, '{{ruleIds}}|{{incidentId}}|{{clientIp}}|{{unknown}}|{{incidentId}}');
    const out = new CompiledBlockPage({ ...page, file }).render('abc', '::1', []).toString();
    assert.equal(out, '|abc|::1|{{unknown}}|abc');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreadable template is a typed error at load time', () => {
  assert.throws(() => new CompiledBlockPage({ ...page, file: '/nonexistent/block.html' }),
    (err: unknown) => err instanceof BlockPageError && err.code === 'BLOCK_PAGE_UNREADABLE' && /nonexistent/.test(err.message));
});
