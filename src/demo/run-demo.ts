/**
 * `portcullis demo` (npm start): the demo origin on 127.0.0.1:8081 and the gateway in front of it,
 * with instructions. Ctrl-C stops both.
 */
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { runDaemon, type DaemonIo } from '../daemon/daemon.js';
import { errorLines } from '../daemon/errors.js';
import { loadGatewayConfig } from '../daemon/gateway.js';
import type { GatewayConfig } from '../config/types.js';
import { createDemoOrigin, listenDemoOrigin } from './origin.js';

/** Where the origin listens when the configuration names no loopback upstream. */
export const DEMO_ORIGIN = { host: '127.0.0.1', port: 8081 } as const;

/**
 * The origin listens where the configuration sends traffic: the first outbound rule whose server is a
 * loopback address (127.0.0.1:8081 in config/portcullis.yaml).
 */
export function demoOriginAddress(config: GatewayConfig): { host: string; port: number } {
  for (const site of config.sites)
    for (const group of site.serverGroups)
      for (const service of group.services)
        for (const rp of service.reverseProxy)
          for (const rule of rp.rules) {
            const ip = rule.serverIp;
            if (ip !== null && ((isIP(ip) === 4 && ip.startsWith('127.')) || ip === '::1')) return { host: ip, port: rule.serverPort };
          }
  return DEMO_ORIGIN;
}

export async function runDemo(configFile: string, io: DaemonIo): Promise<number> {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig({ file: configFile });
  } catch (err) {
    for (const line of errorLines(err)) io.stderr.write(`${line}\n`);
    return 1;
  }
  const at = demoOriginAddress(config);
  const origin = createDemoOrigin();
  try {
    await listenDemoOrigin(origin, at.host, at.port);
  } catch (err) {
    io.stderr.write(`cannot start the demo origin on ${at.host}:${at.port}: ${(err as Error).message} (is another demo still running?)\n`);
    return 1;
  }
  const code = await runDaemon(configFile, io, {
    installSignals: false,
    controlSocketOptional: true,
    onReady: ({ stop, config }) => {
      io.stdout.write(instructions(config, at));
      const onSignal = () => {
        io.stdout.write('\nstopping the gateway and the demo origin…\n');
        stop();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    },
  });
  await closeServer(origin);
  return code;
}

function instructions(config: GatewayConfig, origin: { host: string; port: number }): string {
  const urls = new Set<string>();
  for (const site of config.sites)
    for (const group of site.serverGroups)
      for (const service of group.services)
        for (const rule of service.reverseProxy) {
          const host = rule.aliasRef.family === 6 ? `[${rule.aliasRef.address}]` : rule.aliasRef.address;
          urls.add(`${rule.tls ? 'https' : 'http'}://${host}:${rule.port}`);
        }
  const base = [...urls][0] ?? 'http://127.0.0.1:8080';
  const insecure = base.startsWith('https') ? ' -k' : '';
  return `
Portcullis demo
  demo origin  http://${origin.host.includes(':') ? `[${origin.host}]` : origin.host}:${origin.port}/
  gateway      ${[...urls].join(', ') || '(no listeners in this configuration)'}   (${config.sourceFile})

Try:
  curl${insecure} ${base}/
      the origin's page, proxied by the gateway
  curl${insecure} ${base}/echo
      what the origin received: note the X-Forwarded-For/-Proto/-Host headers the gateway added
  curl${insecure} "${base}/?q=<script>alert(1)</script>"
      an attack: blocked with 403 once the policy engine is active and the server group is in
      operationMode: active (in simulation it passes and is only alerted)

The gateway logs one JSON line per request on stdout. Ctrl-C stops the gateway and the demo origin.

`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
