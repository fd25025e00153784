// Access lines written without pino's generic serializer (src/log/json-line.ts, accessFields in
// src/pipeline/request-pipeline.ts) must be the very bytes pino writes for the same record, and loggers
// pino would write differently must be refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { loadGatewayConfig } from '../../src/daemon/gateway.js';
import { jsonString, PlainLines } from '../../src/log/json-line.js';
import { createRootLogger, LogFile } from '../../src/log/logger.js';
import { accessFields, type AccessRecord } from '../../src/pipeline/request-pipeline.js';

class Sink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
}

function loggerWith(options: LoggerOptions, sink = new Sink()): { logger: Logger; sink: Sink } {
  return { logger: pino(options, sink), sink };
}

const RECORDS: AccessRecord[] = [
  {
    id: 'Ab_c-1', peerIp: '127.0.0.1', clientIp: '10.0.0.7', host: 'shop.example.com', method: 'GET',
    path: '/shop/search', status: 200, bytesIn: 0, bytesOut: 916, rule: 10, upstream: 'http://127.0.0.1:8080',
    durationMs: 1.234, upstreamMs: 0.5, error: null, serverGroup: 'bench',
  },
  {
    // What a client controls: quotes, backslashes, control characters, latin1 bytes above 127.
    id: 'x-2', peerIp: '::1', clientIp: '::1', host: 'a"b\\c\u0001\u001f\u007f', method: 'PROPFIND',
    path: '/\u00e9\u00ff"\\\t\r\n', status: 0, bytesIn: 12, bytesOut: 0, rule: null, upstream: null,
    durationMs: 0, upstreamMs: null, error: 'client-aborted', serverGroup: null, ruleIds: ['942100', '949110'],
  },
  {
    // Long strings (pino escapes those through JSON.stringify), unicode in configured names, odd numbers.
    id: 'y-3', peerIp: '1.2.3.4', clientIp: '1.2.3.4', host: 'h'.repeat(300), method: 'POST',
    path: `/${'p"'.repeat(120)}`, status: 403, bytesIn: 2048, bytesOut: 512, rule: 0, upstream: 'süd \u2603',
    durationMs: Number.NaN, upstreamMs: Number.POSITIVE_INFINITY, error: 'blocked', serverGroup: 'grüße',
    ruleIds: [],
  },
];

describe('plain JSON lines', () => {
  test('jsonString is JSON.stringify, for every string shape', () => {
    const samples = ['', 'plain', '"', '\\', '\u0000', 'a\u001fb', '\u007f\u0080\u00ff', '\u2028\u2029', 'caf\u00e9',
      '\ud83d\ude00', '\ud800', 'x\udfff', 'x'.repeat(1000)];
    for (let i = 0; i < 2000; i++) {
      let s = '';
      for (let k = 0; k < i % 40; k++) s += String.fromCharCode((i * 7919 + k * 104729) % 0xffff);
      samples.push(s);
    }
    for (const s of samples) assert.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
  });

  test('an access line is byte for byte what pino writes through the connection\'s child logger', () => {
    const configs: LoggerOptions[] = [
      { level: 'debug' },
      { level: 'info', timestamp: false, base: null },
      { level: 'info', timestamp: () => ',"time":"2026-11-21T10:00:00.000Z"', base: { pid: 7, mode: 'alias', worker: '2' } },
      { level: 'info', messageKey: 'message' },
    ];
    for (const options of configs) {
      const { logger, sink } = loggerWith({ ...options, timestamp: options.timestamp ?? (() => ',"time":1') });
      const lines = PlainLines.of(logger);
      assert.notEqual(lines, null, JSON.stringify(options));
      for (const [n, record] of RECORDS.entries()) {
        logger.child({ conn: n + 1 }).info(record, 'request');
        lines!.info(`,"conn":${n + 1}`, accessFields(record), 'request');
        const [viaPino, plain] = sink.lines.splice(0);
        assert.equal(plain, viaPino);
        assert.equal((JSON.parse(plain!) as Record<string, unknown>)['id'], record.id);
      }
    }
  });

  test('the daemon\'s root logger (ISO time, pid/mode/worker bindings) writes the same bytes as pino', () => {
    const sink = new Sink();
    const config = loadGatewayConfig({ file: 'inline.yaml', text: MINIMAL_CONFIG });
    const root = createRootLogger(config, { worker: '3', destination: sink });
    const lines = PlainLines.of(root.logger);
    assert.notEqual(lines, null);
    for (let i = 0; i < 50; i++) {
      root.logger.child({ conn: 9 }).info(RECORDS[0]!, 'request');
      lines!.info(',"conn":9', accessFields(RECORDS[0]!), 'request');
      const [viaPino, plain] = sink.lines.splice(0);
      // The ISO stamp may move on by a millisecond between the two; everything else is identical.
      const strip = (l: string): string => l.replace(/"time":"[^"]*"/, '"time":""');
      assert.equal(strip(plain!), strip(viaPino!));
    }
  });

  test('loggers pino would write differently are refused (the caller logs through pino)', () => {
    const refused: LoggerOptions[] = [
      { redact: ['host'] },
      { mixin: () => ({ extra: 1 }) },
      { formatters: { log: (o: Record<string, unknown>) => o } },
      { hooks: { logMethod(args, method) { method.apply(this, args); } } },
      { hooks: { streamWrite: (s: string) => s } },
      { nestedKey: 'payload' },
      { msgPrefix: '[gw] ' },
      { serializers: { host: (h: string) => h.toUpperCase() } },
    ];
    for (const options of refused) assert.equal(PlainLines.of(loggerWith(options).logger), null, JSON.stringify(options));
    const { logger } = loggerWith({});
    assert.equal(PlainLines.of(logger.child({}, { msgPrefix: 'x ' })), null, 'a child with a message prefix');
    assert.equal(PlainLines.of(logger.child({}, { redact: ['path'] })), null, 'a child with redaction');
  });

  test('infoLater into a log file: rendered when the batch is written, in order with other lines, time of logging', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-json-line-'));
    try {
      const file = new LogFile(join(dir, 'x.log'));
      let clock = 0;
      const logger = pino({ level: 'info', timestamp: () => `,"time":${++clock}` }, file);
      const lines = PlainLines.of(logger)!;
      let referenceClock = 0;
      const reference = loggerWith({ level: 'info', timestamp: () => `,"time":${++referenceClock}` });
      let rendered = 0;
      const fields = (r: AccessRecord): string => {
        rendered++;
        return accessFields(r);
      };
      for (const [n, record] of RECORDS.entries()) {
        lines.infoLater(`,"conn":${n}`, record, fields, 'request');
        reference.logger.child({ conn: n }).info(record, 'request');
        logger.warn({ n }, 'between');
        reference.logger.warn({ n }, 'between');
      }
      assert.equal(rendered, 0, 'nothing serialized before the batch is written');
      file.flush();
      assert.equal(rendered, RECORDS.length);
      assert.equal(readFileSync(join(dir, 'x.log'), 'utf8'), reference.sink.lines.join(''));
      file.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('infoLater to a destination that does not batch writes the line at once', () => {
    const { logger, sink } = loggerWith({ level: 'info', timestamp: () => ',"time":1' });
    PlainLines.of(logger)!.infoLater(',"conn":1', RECORDS[0]!, accessFields, 'request');
    logger.child({ conn: 1 }).info(RECORDS[0]!, 'request');
    assert.equal(sink.lines.length, 2);
    assert.equal(sink.lines[0], sink.lines[1]);
  });

  test('infoEnabled follows the logger\'s level, also when it changes', () => {
    const { logger } = loggerWith({ level: 'warn' });
    const lines = PlainLines.of(logger)!;
    assert.equal(lines.infoEnabled(), false);
    logger.level = 'info';
    assert.equal(lines.infoEnabled(), true);
  });
});

const MINIMAL_CONFIG = `
gateway:
  mode: alias
  skipAddressCheck: true
  aliases: [{ name: a, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: S
    serverGroups:
      - name: g
        operationMode: disabled
        servers: [127.0.0.1]
        services:
          - name: web
            ports: [8080]
            reverseProxy:
              - alias: a
                port: 8080
                rules: [{ priority: 10, host: '*', urlPrefix: /, serverIp: 127.0.0.1, serverPort: 9090 }]
`;
