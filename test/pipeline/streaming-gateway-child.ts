/**
 * Runs an alias runtime in its own process so that the streaming test can measure the gateway's memory
 * alone. argv[2] = origin port. Talks to the parent over IPC: sends {port}; answers 'reset' / 'report'
 * with resident-set and heap samples taken every 20 ms.
 */
import { createAliasRuntime } from '../../src/modes/alias/alias-runtime.js';
import { outbound, singleServiceConfig } from './config-builder.js';
import { startGateway } from './harness.js';

const originPort = Number(process.argv[2]);
const gw = await startGateway(createAliasRuntime, singleServiceConfig(8080, [outbound({ priority: 10, serverPort: originPort })]));
let baseline = process.memoryUsage().rss;
let peak = baseline;
let baselineHeap = process.memoryUsage().heapUsed;
let peakHeap = baselineHeap;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peak) peak = m.rss;
  if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
}, 20);
// V8 frees the Buffers of socket reads lazily: it collects external memory only after tens of MB of it
// piled up (its external-allocation soft limit is 64 MB), so at 300 MB/s over loopback the garbage alone
// would put RSS near a 64 MB bound whatever the gateway holds. A forced GC every 50 ms bounds that lag,
// so that the RSS figure reflects what the gateway keeps, not when V8 gets round to freeing it.
const collector = setInterval(() => global.gc!(), 50);

process.on('message', (msg: string) => {
  if (msg === 'reset') {
    global.gc!();
    const m = process.memoryUsage();
    baseline = peak = m.rss;
    baselineHeap = peakHeap = m.heapUsed;
    process.send!({ reset: true });
  } else if (msg === 'report') {
    process.send!({ baseline, peak, baselineHeap, peakHeap, access: gw.logs.access() });
  } else if (msg === 'exit') {
    clearInterval(sampler);
    clearInterval(collector);
    void gw.close().then(() => process.exit(0));
  }
});
process.send!({ port: gw.port(8080) });
