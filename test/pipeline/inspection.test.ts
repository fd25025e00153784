import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { outbound, singleServiceConfig } from './config-builder.js';
import { eventually, get, rawExchange, startEchoOrigin, startGateway, startOrigin, type Gateway } from './harness.js';
import { InspectorDouble, type DoubleOptions } from './inspector-double.js';

describe('inspection decisions', () => {
  let origin: Awaited<ReturnType<typeof startEchoOrigin>>;
  let leaky: Awaited<ReturnType<typeof startOrigin>>;
  const gateways: Gateway[] = [];
  let dir: string;

  before(async () => {
    origin = await startEchoOrigin('o');
    leaky = await startOrigin((_req, res) => {
      res.writeHead(200, { 'x-leak': 'secret', 'content-type': 'text/plain' });
      res.end('internal data');
    });
    dir = mkdtempSync(join(tmpdir(), 'portcullis-blockpage-'));
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await origin.close();
    await leaky.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gatewayWith(options: DoubleOptions, overrides: Parameters<typeof singleServiceConfig>[2] = {}) {
    const inspector = new InspectorDouble('shop', options);
    const gw = await startGateway(createAliasRuntime, singleServiceConfig(8080, [
      outbound({ priority: 10, urlPrefix: '/leaky', serverPort: leaky.port }),
      outbound({ priority: 20, serverPort: origin.port }),
    ], overrides), inspector);
    gateways.push(gw);
    return { gw, inspector };
  }

  test('active: /attack gets the block page with the incident id; the upstream sees nothing', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'active' });
    const seenBefore = origin.seen.length;
    const res = await get(gw.port(8080), '/attack?x=1', { host: 'x' });
    assert.equal(res.status, 403);
    assert.match(String(res.headers['content-type']), /text\/html/);
    const r = inspector.recorded.at(-1)!;
    assert.ok(res.body.includes(r.facts.id), 'the page quotes the incident id');
    assert.ok(res.body.includes('127.0.0.1'));
    assert.equal(origin.seen.length, seenBefore);
    await eventually(() => r.calls.includes('end'));
    assert.deepEqual(r.calls, ['requestHeaders', 'end']);
    assert.equal(r.outcomes.length, 1);
    assert.equal(r.outcomes[0]!.status, 403);
    await eventually(() => gw.logs.access().some((l) => l.path === '/attack'));
    const line = gw.logs.access().find((l) => l.path === '/attack')!;
    assert.equal(line.error, 'blocked');
    assert.deepEqual(line.ruleIds, ['9001']);
    assert.equal(line.bytesOut, Buffer.byteLength(res.body), 'the block page counts as bytes out');
  });

  test('simulation: /attack passes, the match is still recorded', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'simulation' }, { alerts: { ruleIdsHeader: 'X-Rule-Ids' } });
    const res = await get(gw.port(8080), '/attack', { host: 'x' });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).url, '/attack');
    assert.equal(res.headers['x-rule-ids'], '9001');
    const r = inspector.recorded.at(-1)!;
    await eventually(() => r.calls.includes('end'));
    assert.deepEqual(r.calls, ['requestHeaders', 'requestBodyDone', 'responseHeaders', 'end']);
    assert.deepEqual(r.matched, ['9001']);
  });

  test('phase 5 (end) runs once per request after the response, and the request is in flight until it ran', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'active' });
    const inFlightAtEnd: number[] = [];
    const before = inspector.recorded.length;
    // Every inspection's end() notes how many requests the runtime still counts as in flight.
    const begin = inspector.begin.bind(inspector);
    inspector.begin = (facts) => {
      const inspection = begin(facts);
      if (inspection !== null) {
        const end = inspection.end.bind(inspection);
        inspection.end = (outcome) => {
          inFlightAtEnd.push(gw.runtime.inFlight());
          end(outcome);
        };
      }
      return inspection;
    };
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => get(gw.port(8080), `/p${i}`, { host: 'x' })));
    assert.deepEqual(answers.map((a) => a.status), Array(8).fill(200));
    await eventually(() => inspector.recorded.slice(before).every((r) => r.calls.includes('end')));
    const recorded = inspector.recorded.slice(before);
    assert.equal(recorded.length, 8);
    for (const r of recorded) assert.equal(r.calls.filter((c) => c === 'end').length, 1, 'exactly once');
    assert.equal(inFlightAtEnd.length, 8);
    assert.ok(inFlightAtEnd.every((n) => n >= 1), `the request still counted while its end() runs: ${inFlightAtEnd.join(',')}`);
    await eventually(() => gw.runtime.inFlight() === 0);
  });

  test('disabled: no inspection at all', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'disabled' });
    const res = await get(gw.port(8080), '/attack', { host: 'x' });
    assert.equal(res.status, 200);
    assert.equal(inspector.recorded.length, 0);
  });

  test('rule-ids header on a clean response is present and empty; on a block it lists the rules', async () => {
    const { gw } = await gatewayWith({ operationMode: 'active' }, { alerts: { ruleIdsHeader: 'X-Rule-Ids' } });
    const clean = await get(gw.port(8080), '/fine', { host: 'x' });
    assert.equal(clean.status, 200);
    assert.equal(clean.headers['x-rule-ids'], '');
    const blocked = await get(gw.port(8080), '/attack', { host: 'x' });
    assert.equal(blocked.headers['x-rule-ids'], '9001');
  });

  test('request body inspected in phase 2 (buffered up to the limit), evil body blocked', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'active', requestBody: { limit: 1024, overLimit: 'partial' } });
    const seenBefore = origin.seen.length;
    const blocked = await get(gw.port(8080), '/form', { host: 'x', 'content-type': 'text/plain' }, 'POST', 'this is evil');
    assert.equal(blocked.status, 403);
    assert.equal(origin.seen.length, seenBefore);
    assert.equal(inspector.recorded.at(-1)!.body!.toString(), 'this is evil');
    assert.equal(inspector.recorded.at(-1)!.bodyComplete, true);
    const ok = await get(gw.port(8080), '/form', { host: 'x' }, 'POST', 'harmless');
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).bodyBytes, 8);
  });

  test('body over the inspection limit: partial inspects the first bytes and forwards everything', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'active', requestBody: { limit: 16, overLimit: 'partial' } });
    const body = 'a'.repeat(16) + 'evil'.repeat(100);
    const res = await get(gw.port(8080), '/partial', { host: 'x' }, 'POST', body);
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).bodyBytes, body.length);
    const r = inspector.recorded.at(-1)!;
    assert.equal(r.body!.length, 16);
    assert.equal(r.bodyComplete, false);
  });

  test('body over the inspection limit with overLimit reject → 413', async () => {
    const { gw } = await gatewayWith({ operationMode: 'active', requestBody: { limit: 16, overLimit: 'reject' } });
    const res = await get(gw.port(8080), '/reject', { host: 'x' }, 'POST', 'b'.repeat(100));
    assert.equal(res.status, 413);
  });

  test('phase 3: a response header match blocks the response', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'active' });
    const res = await get(gw.port(8080), '/leaky', { host: 'x' });
    assert.equal(res.status, 403);
    assert.ok(!res.body.includes('internal data'));
    await eventually(() => inspector.recorded.at(-1)!.calls.includes('end'));
    assert.deepEqual(inspector.recorded.at(-1)!.matched, ['9003']);
  });

  test('phase 4: response body inspected within the limit; a match blocks, a clean body passes intact', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'active', responseBodyLimit: 4096 });
    const clean = await get(gw.port(8080), '/clean', { host: 'x' });
    assert.equal(clean.status, 200);
    assert.equal(JSON.parse(clean.body).url, '/clean');
    const r = inspector.recorded.at(-1)!;
    assert.equal(r.responseBodyComplete, true);
    assert.equal(r.responseBody!.toString(), clean.body);
    assert.equal(r.responseBodyLimitReads, 1, 'the limit is read once per response, when its head comes');
    const leaked = await get(gw.port(8080), '/secret', { host: 'x' }); // the echo body contains the URL
    assert.equal(leaked.status, 403);
    assert.ok(!leaked.body.includes('"url"'));
    await eventually(() => inspector.recorded.at(-1)!.calls.includes('end'));
    assert.deepEqual(inspector.recorded.at(-1)!.matched, ['9004']);
  });

  test('phase 4 over the limit: the first bytes are inspected, the whole body still arrives', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'active', responseBodyLimit: 64 });
    const res = await get(gw.port(8080), `/long-${'z'.repeat(500)}`, { host: 'x' });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).url.length, 506);
    const r = inspector.recorded.at(-1)!;
    assert.equal(r.responseBodyComplete, false);
    assert.equal(r.responseBody!.length, 64);
    assert.equal(r.responseBodyLimitReads, 1);
  });

  test('drop destroys the client connection', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'active', action: 'drop' });
    const raw = await rawExchange(gw.port(8080), 'GET /attack HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(raw, '');
    await eventually(() => inspector.recorded.at(-1)!.calls.includes('end'));
    assert.equal(inspector.recorded.at(-1)!.outcomes[0]!.status, 0);
  });

  test('redirect answers 302 with Location', async () => {
    const { gw } = await gatewayWith({ operationMode: 'active', action: 'redirect' });
    const res = await get(gw.port(8080), '/attack', { host: 'x' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/blocked.html');
  });

  test('block page from a template file with placeholders, status from the config', async () => {
    const file = join(dir, 'block.html');
    writeFileSync(file, '<p>id={{incidentId}} ip={{clientIp}} rules={{ruleIds}} again={{incidentId}}</p>');
    const { gw, inspector } = await gatewayWith({ operationMode: 'active' }, { blockPage: { file, status: 406 } });
    const res = await get(gw.port(8080), '/attack', { host: 'x' });
    const id = inspector.recorded.at(-1)!.facts.id;
    // The decision carries 403; the configured page status only applies when a decision has none.
    assert.equal(res.status, 403);
    assert.equal(res.body, `<p>id=${id} ip=127.0.0.1 rules=9001 again=${id}</p>`);
  });

  test('facts given to the engine', async () => {
    const { gw, inspector } = await gatewayWith({ operationMode: 'simulation' });
    await get(gw.port(8080), '/facts?q=1', { host: 'facts.test', 'x-custom': 'v' });
    const f = inspector.recorded.at(-1)!.facts;
    assert.equal(f.serverGroup, 'shop');
    assert.equal(f.method, 'GET');
    assert.equal(f.rawTarget, '/facts?q=1');
    assert.equal(f.peerIp, '127.0.0.1');
    assert.equal(f.tls, false);
    assert.equal(f.localPort, gw.port(8080));
    assert.ok(f.rawHeaders.includes('x-custom'));
    assert.equal(f.httpVersion, '1.1');
  });
});
