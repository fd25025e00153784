/**
 * A minimal ModeRuntime for daemon tests: one plain listener per reverse-proxy entry, answering
 * `fixed:<serverPort of its first rule> <url>` after `delayMs`, counting requests in flight, and
 * recording when close() was called and when it finished.
 */
import type { ListenerSpec, ModeRuntime, ModeRuntimeFactory } from '../../src/daemon/runtime.js';

export interface FixedRuntimeRecord {
  readonly marker: string;
  closeCalledAt: number | null;
  closedAt: number | null;
}

export function fixedRuntimeFactory(delayMs: number, records: FixedRuntimeRecord[]): ModeRuntimeFactory {
  return (config) => {
    let inFlight = 0;
    let idle: (() => void) | null = null;
    const listeners: ListenerSpec[] = [];
    let marker = '';
    for (const site of config.sites)
      for (const group of site.serverGroups)
        for (const service of group.services)
          for (const rp of service.reverseProxy) {
            const tag = `fixed:${rp.rules[0]!.serverPort}`;
            marker ||= tag;
            listeners.push({
              key: `${rp.aliasRef.address}:${rp.port}`,
              address: rp.aliasRef.address,
              port: rp.port,
              tls: null,
              transparent: false,
              onRequest(req, res) {
                inFlight++;
                req.resume();
                res.on('close', () => {
                  inFlight--;
                  if (inFlight === 0) idle?.();
                });
                setTimeout(() => res.end(`${tag} ${req.url}`), delayMs);
              },
              onUpgrade(_req, socket) {
                socket.destroy();
              },
            });
          }
    const record: FixedRuntimeRecord = { marker, closeCalledAt: null, closedAt: null };
    records.push(record);
    const runtime: ModeRuntime = {
      listeners,
      inFlight: () => inFlight,
      async close(graceMs) {
        record.closeCalledAt = Date.now();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            idle = resolve;
            setTimeout(resolve, graceMs).unref();
          });
        }
        record.closedAt = Date.now();
      },
    };
    return runtime;
  };
}
