/**
 * `portcullis run`: starts the daemon for a configuration file and returns its exit code when it
 * stops. `gateway.workers: 1` runs everything in this process; more runs a cluster (primary.ts).
 */
import type { Writable } from 'node:stream';
import type { GatewayConfig } from '../config/types.js';
import { openControlSocket, type ControlServer } from './control-socket.js';
import { controlHandler } from './control-commands.js';
import { errorLines } from './errors.js';
import { Gateway, loadGatewayConfig, type GatewayOptions } from './gateway.js';
import { installProcessHandlers } from './process-signals.js';
import { runPrimary } from './primary.js';
import { healthLogReply } from '../pools/health-log.js';
import type { ModeRuntimeFactory } from './runtime.js';

export interface DaemonIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export interface RunDaemonOptions {
  /** Replaces the mode runtime (one-process mode only; used by the demo and tests). */
  readonly runtimeFactory?: ModeRuntimeFactory;
  /** Called once the daemon serves; `stop` ends it as SIGTERM would. */
  readonly onReady?: (handle: { stop(): void; config: GatewayConfig }) => void;
  /** Signals are left alone (the demo handles Ctrl-C for its origin and the gateway together). */
  readonly installSignals?: boolean;
  /**
   * Serve even when the control socket cannot be created (the demo: a newcomer running `npm start`
   * as a normal user cannot create /run/portcullis; SIGHUP still reloads).
   */
  readonly controlSocketOptional?: boolean;
}

export async function runDaemon(configFile: string, io: DaemonIo, options: RunDaemonOptions = {}): Promise<number> {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig({ file: configFile });
  } catch (err) {
    for (const line of errorLines(err)) io.stderr.write(`${line}\n`);
    return 1;
  }
  if (config.gateway.workers > 1) return runPrimary(config, io, options);
  return runSingle(config, io, options);
}

async function runSingle(config: GatewayConfig, io: DaemonIo, options: RunDaemonOptions): Promise<number> {
  const gatewayOptions: GatewayOptions = {
    worker: 'single',
    checkAddresses: true,
    ...(options.runtimeFactory ? { runtimeFactory: options.runtimeFactory } : {}),
  };
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({ file: config.sourceFile, config }, gatewayOptions);
  } catch (err) {
    for (const line of errorLines(err)) io.stderr.write(`${line}\n`);
    return 1;
  }
  const log = gateway.logger.child({ component: 'daemon' });
  let control: ControlServer | null = null;
  try {
    control = await openControlSocket(
      config.gateway.control.socket,
      controlHandler({
        reload: async () => ({ ...(await gateway.reload()) }),
        status: async () => {
          const s = gateway.status();
          return { ok: true, ...s, workers: 1, workerStatus: [s] };
        },
        'health-log': async (request) => healthLogReply(gateway.healthLog, request),
      }),
      log,
    );
  } catch (err) {
    for (const line of errorLines(err)) io.stderr.write(`${line}\n`);
    if (!options.controlSocketOptional) {
      await gateway.stop();
      return 1;
    }
    io.stderr.write('continuing without a control socket: `portcullis reload` and `status` will not reach this gateway (set gateway.control.socket or PORTCULLIS_CONTROL to a writable path)\n');
  }

  let resolveStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (resolveStop = resolve));
  const uninstall =
    options.installSignals === false
      ? () => {}
      : installProcessHandlers(log, {
          onReload: () => void gateway.reload(),
          onStop: () => resolveStop(),
        });
  log.info({ controlSocket: control?.path ?? null }, 'daemon ready');
  options.onReady?.({ stop: resolveStop, config: gateway.config });
  await stopRequested;
  await control?.close();
  await gateway.stop();
  uninstall();
  return 0;
}
