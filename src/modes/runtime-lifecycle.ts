/**
 * What every proxying mode runtime (alias, bridge) does around its RequestPipeline: health checks run
 * while its configuration serves, and `close()` waits for in-flight requests (up to the grace period),
 * then closes its upstream connection pools gracefully, or destroys them and any open upgrade tunnels
 * when the grace period ran out.
 */
import type { ModeRuntime } from '../daemon/runtime.js';
import type { RequestPipeline } from '../pipeline/request-pipeline.js';
import type { PoolSet } from '../pools/pool-set.js';

export interface UpstreamConnections {
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export function proxyRuntimeLifecycle(
  pipeline: RequestPipeline,
  serverPools: PoolSet,
  upstreams: readonly (UpstreamConnections | null)[],
): Pick<ModeRuntime, 'inFlight' | 'start' | 'close'> {
  let closing: Promise<void> | null = null;
  return {
    inFlight: () => pipeline.inFlight(),
    async start(): Promise<void> {
      serverPools.start();
    },
    close(graceMs: number): Promise<void> {
      closing ??= (async () => {
        serverPools.stop();
        const idle = await pipeline.whenIdle(graceMs);
        if (idle) {
          await Promise.all(upstreams.map((u) => u?.close()));
        } else {
          for (const tunnel of [...pipeline.tunnels]) tunnel.destroy();
          await Promise.all(upstreams.map((u) => u?.destroy()));
        }
      })();
      return closing;
    },
  };
}
