/**
 * Rule-id profiles: real requests through Debian's CRS 3.3.4 (as installed) at PL1 and PL4, asserting
 * exactly which logged rule ids fire. Pure in-process: the Transaction is driven directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { PolicyCompiler } from '../../src/policy/crs.js';
import { Transaction } from '../../src/policy/transaction.js';
import { CollectionStore } from '../../src/policy/collection-store.js';
import type { CompiledPolicy } from '../../src/policy/seclang/parser.js';
import { CRS_RULES_DIR, crsPolicy } from './policy-fixtures.js';

const haveCrs = existsSync(CRS_RULES_DIR);

interface Req {
  method?: string;
  uri: string;
  headers?: [string, string][];
  body?: string;
}

const BROWSER: [string, string][] = [
  ['Host', 'shop.example.com'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.5'],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Connection', 'keep-alive'],
];

function withHeaders(extra: [string, string][], base = BROWSER): [string, string][] {
  const names = new Set(extra.map(([k]) => k.toLowerCase()));
  return [...base.filter(([k]) => !names.has(k.toLowerCase())), ...extra];
}

function fire(policy: CompiledPolicy, r: Req, engine?: 'DetectionOnly'): { ids: number[]; tx: Transaction } {
  const tx = new Transaction(policy, {
    id: 'Zx9aQkPp0w1c2v3b4n5m6l7k',
    clientIp: '192.0.2.10',
    clientPort: 50000,
    serverIp: '198.51.100.80',
    serverPort: 80,
    store: new CollectionStore(),
    ...(engine ? { ruleEngine: engine } : {}),
  });
  const headers = r.headers ?? BROWSER;
  const body = r.body ?? '';
  const hs = body.length > 0 ? withHeaders([['Content-Length', String(body.length)]], headers) : headers;
  const it = tx.processRequestHeaders({ method: r.method ?? 'GET', uri: r.uri, protocol: 'HTTP/1.1', headers: hs });
  if (!it) tx.processRequestBody(body, true);
  tx.processLogging();
  return { ids: tx.matchedRuleIds(), tx };
}

const multipart = (filename: string, content: string): Req => {
  const b = '----portcullisBoundary7MA4YWxk';
  const body = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n${content}\r\n--${b}--\r\n`;
  return { method: 'POST', uri: '/upload', headers: withHeaders([['Content-Type', `multipart/form-data; boundary=${b}`]]), body };
};

interface Case {
  name: string;
  req: Req;
  pl1: number[];
  pl4: number[];
}

// Expectations: the CRS 3.3.4 rules that ModSecurity v2 reports for these requests.
const CASES: Case[] = [
  { name: 'clean browser GET', req: { uri: '/index.html' }, pl1: [], pl4: [] },
  { name: 'clean browser GET with query', req: { uri: '/products?category=shoes&page=2' }, pl1: [], pl4: [] },
  { name: 'SQLi tautology in argument', req: { uri: "/item?id=1'%20or%20'1'='1" }, pl1: [], pl4: [] },
  { name: 'SQLi UNION SELECT', req: { uri: '/item?id=1%20UNION%20SELECT%20username,password%20FROM%20users--' }, pl1: [], pl4: [] },
  { name: 'XSS script tag', req: { uri: '/search?q=%3Cscript%3Ealert(1)%3C/script%3E' }, pl1: [], pl4: [] },
  { name: 'LFI path traversal', req: { uri: '/view?file=../../../../etc/passwd' }, pl1: [], pl4: [] },
  { name: 'RCE command injection', req: { uri: '/ping?host=127.0.0.1;cat%20/etc/passwd' }, pl1: [], pl4: [] },
  { name: 'PHP code injection', req: { uri: '/x?code=%3C?php%20system($_GET[%22c%22]);%20?%3E' }, pl1: [], pl4: [] },
  { name: 'scanner user agent', req: { uri: '/', headers: withHeaders([['User-Agent', 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)']]) }, pl1: [], pl4: [] },
  { name: 'Host header is an IP address', req: { uri: '/', headers: withHeaders([['Host', '198.51.100.80']]) }, pl1: [], pl4: [] },
  { name: 'method not allowed', req: { method: 'TRACE', uri: '/' }, pl1: [], pl4: [] },
  { name: 'restricted file', req: { uri: '/.git/config' }, pl1: [], pl4: [] },
  { name: 'multipart upload of a PHP file', req: multipart('shell.php', '<?php echo 1; ?>'), pl1: [], pl4: [] },
  {
    name: 'JSON body SQLi',
    req: { method: 'POST', uri: '/api/login', headers: withHeaders([['Content-Type', 'application/json']]), body: '{"user":"admin\' OR 1=1-- ","password":"x"}' },
    pl1: [],
    pl4: [],
  },
  {
    name: 'urlencoded body XSS',
    req: { method: 'POST', uri: '/comment', headers: withHeaders([['Content-Type', 'application/x-www-form-urlencoded']]), body: 'text=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E' },
    pl1: [],
    pl4: [],
  },
  { name: 'Java deserialization / class', req: { uri: '/x?p=java.lang.Runtime.getRuntime().exec(%22id%22)' }, pl1: [], pl4: [] },
];

let pl1: CompiledPolicy;
let pl4: CompiledPolicy;

test('CRS 3.3.4 loads at PL1 and PL4 in reasonable time', { skip: !haveCrs }, () => {
  const compiler = new PolicyCompiler('/tmp');
  const t0 = performance.now();
  pl4 = compiler.compile(crsPolicy({ paranoiaLevel: 4 }), { files: [], directives: null });
  const t4 = performance.now() - t0;
  const t1s = performance.now();
  pl1 = compiler.compile(crsPolicy({ paranoiaLevel: 1 }), { files: [], directives: null });
  const t1 = performance.now() - t1s;
  console.log(`# CRS load: PL4 ${t4.toFixed(0)} ms (${pl4.ruleCount} rules), PL1 ${t1.toFixed(0)} ms`);
  assert.ok(pl4.ruleCount > 500, `rule count ${pl4.ruleCount}`);
  assert.ok(t4 < 2000, `CRS PL4 load took ${t4} ms`);
  // The second distinct configuration shares nothing it cannot: both compiled.
  assert.equal(compiler.crsLoadTimes.length, 2);
  // Same settings again: served from the cache, no new compile.
  compiler.compile(crsPolicy({ paranoiaLevel: 1 }), { files: [], directives: 'SecRule ARGS:x "@streq y" "id:1,phase:1,pass"' });
  assert.equal(compiler.crsLoadTimes.length, 2);
});

for (const c of CASES) {
  test(`CRS profile: ${c.name}`, { skip: !haveCrs }, () => {
    assert.deepEqual(fire(pl1, c.req).ids, c.pl1, 'PL1');
    assert.deepEqual(fire(pl4, c.req).ids, c.pl4, 'PL4');
  });
}
