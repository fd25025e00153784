import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { parseConfigText } from '../../src/config/load.js';
import { loadModeRuntimeFactory } from '../../src/daemon/mode-registry.js';
import { createSniffRuntime } from '../../src/modes/sniff/sniff-runtime.js';
import { PacketError } from '../../src/packet/packet-errors.js';
import { sniffConfigText } from '../packet/sniff-config.js';

const deps = { logger: pino({ level: 'silent' }), inspectors: null };

function config(text: string) {
  const r = parseConfigText(text, '/tmp/portcullis-sniff-runtime.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

describe('sniff mode runtime', () => {
  it('is the registered runtime of gateway.mode sniff and has no listeners', async () => {
    const factory = await loadModeRuntimeFactory('sniff');
    const runtime = factory(config(sniffConfigText('simulation')), deps);
    assert.deepEqual(runtime.listeners, []);
    assert.equal(runtime.inFlight(), 0);
    assert.equal(typeof runtime.start, 'function');
    await runtime.close(0);
  });

  it('refuses several workers (one capture per host)', () => {
    const text = sniffConfigText('simulation').replace('  mode: sniff', '  mode: sniff\n  workers: 2');
    assert.throws(() => createSniffRuntime(config(text), deps), /set gateway.workers to 1/);
  });

  it('a capture that cannot open fails start() with the reason, and leaves nothing open', async () => {
    const runtime = createSniffRuntime(config(sniffConfigText('simulation', '10.1.0.2', 'nosuchif0')), deps);
    await assert.rejects(runtime.start!(), (e: unknown) => e instanceof PacketError && e.code === 'ERR_CAPTURE_OPEN' && /cannot capture on nosuchif0/.test(e.message));
    await runtime.close(0); // idempotent after the failed start
  });
});
