/**
 * One gateway process: configuration → policy engine → mode runtime → listeners, and the reload
 * transaction that replaces them. Used directly by a one-process daemon and by each cluster worker;
 * signals, the control socket and workers are the supervisors' business (single.ts, primary.ts).
 *
 * reload() is a transaction (Caddy's changeConfig): load and validate, build the new inspectors and
 * runtime, apply the listener changes; any failure rolls back to the running runtime with the listeners
 * untouched and reports every error. A bad file never replaces a good one.
 */
import type { DestinationStream, Logger } from 'pino';
import { formatConfigError, loadConfigFile, parseConfigText } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { createAlertSink, type AlertSink } from '../log/alert-sink.js';
import { componentLogger, createRootLogger, type RootLogger } from '../log/logger.js';
import type { InspectorSet } from '../pipeline/inspection.js';
import { HealthLog } from '../pools/health-log.js';
import { clientErrorHandler, frontEndOptions } from '../pipeline/http-server-options.js';
import { checkAliasAddresses, type InterfaceTable } from './address-check.js';
import { DaemonError, errorLines } from './errors.js';
import { buildInspectors } from './inspectors.js';
import { ListenerRegistry, type ApplyOptions, type ListenerInfo, type TransparentListenerOpener } from './listener-registry.js';
import { loadModeRuntimeFactory } from './mode-registry.js';
import type { ListenerSpec, ModeRuntime, ModeRuntimeFactory } from './runtime.js';
import { assertBridgeReady, startBridgeDataPlane, transparentListenerOpener, type BridgeDataPlane } from '../modes/bridge/bridge-lifecycle.js';

/** A configuration to load: the file, or (cluster workers) the exact text the primary validated. */
export interface ConfigSource {
  readonly file: string;
  readonly text?: string;
  /** Already loaded and validated (the supervisor loaded it to decide how many workers to run). */
  readonly config?: GatewayConfig;
}

export interface GatewayOptions {
  /** "single" for a one-process daemon, or the cluster worker id. */
  readonly worker: string;
  /** Check that alias addresses exist on this host (the cluster primary checks once for its workers). */
  readonly checkAddresses: boolean;
  /** Replaces the mode's runtime (tests serve a fixed response). */
  readonly runtimeFactory?: ModeRuntimeFactory;
  readonly interfaces?: () => InterfaceTable;
  /** Log destination instead of gateway.log.file / stdout. */
  readonly logDestination?: DestinationStream;
  readonly openTransparentListener?: TransparentListenerOpener;
  /**
   * Bridge mode: install the nftables interception after the listeners open, update it on reload,
   * remove it on stop. Default true; tests that only exercise the data path turn it off.
   */
  readonly bridgeInterception?: boolean;
}

export interface ReloadResult {
  readonly ok: boolean;
  /** ISO time the reload finished. */
  readonly at: string;
  readonly durationMs: number;
  /** Every error, formatted for people (file:line:col key path: message). Empty when ok. */
  readonly errors: readonly string[];
  readonly listenersAdded: readonly string[];
  readonly listenersRemoved: readonly string[];
}

export interface GatewayStatus {
  readonly pid: number;
  readonly worker: string;
  readonly mode: string;
  readonly configFile: string;
  readonly startedAt: string;
  readonly uptimeMs: number;
  readonly loadedAt: string;
  readonly listeners: readonly ListenerInfo[];
  readonly inFlight: number;
  readonly requestsServed: number;
  readonly inspection: boolean;
  readonly lastReload: ReloadResult | null;
  /** The current runtime's own counters (ModeRuntime.stats), null when the mode has none. */
  readonly modeStats: Readonly<Record<string, number>> | null;
}

/** Everything built from one configuration; replaced as a whole on reload. */
interface Generation {
  readonly config: GatewayConfig;
  readonly loadedAt: Date;
  readonly alertSink: AlertSink;
  readonly inspectors: InspectorSet | null;
  readonly runtime: ModeRuntime;
}

/** Loads and validates a configuration; throws ERR_CONFIG_INVALID listing every error. */
export function loadGatewayConfig(source: ConfigSource): GatewayConfig {
  if (source.config) return source.config;
  const result = source.text !== undefined ? parseConfigText(source.text, source.file) : loadConfigFile(source.file);
  if (!result.ok) {
    const details = result.errors.map((e) => formatConfigError(e));
    throw new DaemonError(
      'ERR_CONFIG_INVALID',
      `${source.file}: the configuration is invalid (${details.length} error${details.length === 1 ? '' : 's'})`,
      details,
    );
  }
  return result.config;
}

/** Which configuration entry asked for a listener: "file:line:col sites[i]…reverseProxy[l]". */
export function listenerSource(config: GatewayConfig, spec: ListenerSpec): string {
  if (spec.source) return spec.source;
  for (const [si, site] of config.sites.entries()) {
    for (const [gi, group] of site.serverGroups.entries()) {
      for (const [vi, service] of group.services.entries()) {
        for (const [ri, rule] of service.reverseProxy.entries()) {
          if (rule.aliasRef.address === spec.address && rule.port === spec.port) {
            return `${rule.pos.file}:${rule.pos.line}:${rule.pos.col} sites[${si}].serverGroups[${gi}].services[${vi}].reverseProxy[${ri}] (alias ${rule.alias}, port ${rule.port})`;
          }
        }
      }
    }
  }
  return `${config.sourceFile} (listener ${spec.key})`;
}

export class Gateway {
  readonly #options: GatewayOptions;
  readonly #root: RootLogger;
  readonly #log: Logger;
  readonly #registry: ListenerRegistry;
  readonly #startedAt = new Date();
  #current: Generation;
  /** Generations replaced by a reload and still finishing their requests. */
  readonly #retiring = new Set<Generation>();
  #lastReload: ReloadResult | null = null;
  /** Reloads run one at a time, in the order asked. */
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** Bridge mode's nftables rules and routing; null in other modes. */
  #dataPlane: BridgeDataPlane | null = null;
  /** The last 3000 pool health checks; one ring for the process, kept across reloads. */
  readonly healthLog: HealthLog;

  private constructor(options: GatewayOptions, root: RootLogger, registry: ListenerRegistry, first: Generation, healthLog: HealthLog) {
    this.healthLog = healthLog;
    this.#options = options;
    this.#root = root;
    this.#log = componentLogger(root.logger, 'gateway');
    this.#registry = registry;
    this.#current = first;
  }

  /**
   * Loads, checks and starts serving. Throws a DaemonError (ERR_CONFIG_INVALID, ERR_ALIAS_ADDRESS_MISSING,
   * ERR_LISTEN_*, ERR_INSPECTORS_FAILED, ERR_MODE_NOT_AVAILABLE …) with every problem listed; nothing is
   * left listening when it throws.
   */
  static async start(source: ConfigSource, options: GatewayOptions): Promise<Gateway> {
    const config = loadGatewayConfig(source);
    if (options.checkAddresses) checkAliasAddresses(config, options.interfaces?.());
    const withDataPlane = config.gateway.mode === 'bridge' && options.bridgeInterception !== false;
    if (withDataPlane) await assertBridgeReady(config);
    const root = createRootLogger(config, {
      worker: options.worker,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    const registry = new ListenerRegistry({
      logger: componentLogger(root.logger, 'listeners'),
      openTransparentListener: options.openTransparentListener ?? transparentListenerOpener,
    });
    let generation: Generation | null = null;
    let dataPlane: BridgeDataPlane | null = null;
    const healthLog = new HealthLog();
    try {
      generation = await buildGeneration(config, root.logger, options, healthLog);
      await registry.apply(generation.runtime.listeners, applyOptions(generation, root.logger));
      // After the listeners: until the rules exist nothing is intercepted (the bridge stays a cable).
      if (withDataPlane) dataPlane = await startBridgeDataPlane(config, root.logger);
    } catch (err) {
      await registry.close(0);
      if (generation) await retire(generation, 0);
      for (const line of errorLines(err)) root.logger.error(line);
      await root.close();
      throw err;
    }
    const gateway = new Gateway(options, root, registry, generation, healthLog);
    gateway.#dataPlane = dataPlane;
    gateway.#log.info(
      { configFile: config.sourceFile, listeners: registry.list().map((l) => l.key), inspection: generation.inspectors !== null },
      'gateway started',
    );
    return gateway;
  }

  get logger(): Logger {
    return this.#root.logger;
  }

  get config(): GatewayConfig {
    return this.#current.config;
  }

  /** Reloads from the file (or the given text); never throws: the result says what happened. */
  reload(source: ConfigSource = { file: this.#current.config.sourceFile }): Promise<ReloadResult> {
    const run = this.#queue.then(() => this.#reload(source));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(source: ConfigSource): Promise<ReloadResult> {
    const t0 = Date.now();
    const before = new Set(this.#registry.list().map((l) => l.key));
    const finish = (errors: string[]): ReloadResult => {
      const after = new Set(this.#registry.list().map((l) => l.key));
      const result: ReloadResult = {
        ok: errors.length === 0,
        at: new Date().toISOString(),
        durationMs: Date.now() - t0,
        errors,
        listenersAdded: [...after].filter((k) => !before.has(k)),
        listenersRemoved: [...before].filter((k) => !after.has(k)),
      };
      this.#lastReload = result;
      return result;
    };
    if (this.#stopped) {
      return finish(['the gateway is stopping']);
    }
    let next: Generation | null = null;
    try {
      const config = loadGatewayConfig(source);
      if (config.gateway.mode !== this.#current.config.gateway.mode) {
        throw new DaemonError('ERR_GATEWAY_STATE',
          `gateway.mode changed from ${this.#current.config.gateway.mode} to ${config.gateway.mode}: restart the daemon to change modes`);
      }
      if (this.#options.checkAddresses) checkAliasAddresses(config, this.#options.interfaces?.());
      next = await buildGeneration(config, this.#root.logger, this.#options, this.healthLog);
      await this.#registry.apply(next.runtime.listeners, applyOptions(next, this.#root.logger));
      if (this.#dataPlane) {
        try {
          await this.#dataPlane.reload(config);
        } catch (err) {
          // The rules still describe the running configuration: put its listeners back too.
          await this.#registry.apply(this.#current.runtime.listeners, applyOptions(this.#current, this.#root.logger))
            .catch((rollbackErr) => this.#log.error({ err: rollbackErr }, 'rollback of the listeners failed'));
          throw err;
        }
      }
    } catch (err) {
      if (next) await retire(next, 0);
      const errors = errorLines(err);
      this.#log.error({ configFile: source.file, errors }, 'reload rejected; the running configuration stays');
      for (const line of errors) this.#log.error(line);
      return finish(errors);
    }
    const old = this.#current;
    this.#current = next;
    this.#root.setLevel(next.config.gateway.log.level);
    if (next.config.gateway.log.file !== this.#root.file) {
      this.#log.warn({ file: next.config.gateway.log.file }, 'gateway.log.file changed: takes effect after a restart');
    }
    this.#retireInBackground(old, next.config.gateway.timeouts.shutdownGraceMs);
    const result = finish([]);
    this.#log.info(
      { configFile: next.config.sourceFile, durationMs: result.durationMs, added: result.listenersAdded, removed: result.listenersRemoved },
      'configuration reloaded',
    );
    return result;
  }

  #retireInBackground(generation: Generation, graceMs: number): void {
    this.#retiring.add(generation);
    void retire(generation, graceMs)
      .catch((err) => this.#log.error({ err }, 'closing the previous runtime failed'))
      .finally(() => this.#retiring.delete(generation));
  }

  status(): GatewayStatus {
    const now = Date.now();
    let inFlight = this.#current.runtime.inFlight();
    for (const g of this.#retiring) inFlight += g.runtime.inFlight();
    return {
      pid: process.pid,
      worker: this.#options.worker,
      mode: this.#current.config.gateway.mode,
      configFile: this.#current.config.sourceFile,
      startedAt: this.#startedAt.toISOString(),
      uptimeMs: now - this.#startedAt.getTime(),
      loadedAt: this.#current.loadedAt.toISOString(),
      listeners: this.#registry.list(),
      inFlight,
      requestsServed: this.#registry.requestsServed(),
      inspection: this.#current.inspectors !== null,
      lastReload: this.#lastReload,
      modeStats: this.#current.runtime.stats?.() ?? null,
    };
  }

  /** Stops accepting, lets in-flight requests finish (timeouts.shutdownGraceMs), then closes everything. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#queue;
    const graceMs = this.#current.config.gateway.timeouts.shutdownGraceMs;
    this.#log.info({ graceMs, inFlight: this.status().inFlight }, 'stopping: draining in-flight requests');
    await Promise.all([
      this.#registry.close(graceMs),
      retire(this.#current, graceMs),
      ...[...this.#retiring].map((g) => retire(g, graceMs)),
    ]);
    // Last: intercepted connections keep their marks (and so their path) until they are finished.
    if (this.#dataPlane) {
      await this.#dataPlane.stop().catch((err) => this.#log.error({ err }, 'removing the bridge interception failed'));
    }
    this.#log.info('stopped');
    await this.#root.close();
  }
}

async function buildGeneration(config: GatewayConfig, logger: Logger, options: GatewayOptions, healthLog: HealthLog): Promise<Generation> {
  const alertSink = createAlertSink(config, logger);
  let inspectors: InspectorSet | null = null;
  try {
    inspectors = await buildInspectors(config, logger, alertSink);
    const factory = options.runtimeFactory ?? (await loadModeRuntimeFactory(config.gateway.mode));
    let runtime: ModeRuntime;
    try {
      runtime = factory(config, { logger, inspectors, healthLog });
      // Modes without listeners (sniff) open their data path here.
      await runtime.start?.();
    } catch (err) {
      if (err instanceof DaemonError) throw err;
      throw new DaemonError('ERR_RUNTIME_FAILED', `the ${config.gateway.mode} mode could not start: ${(err as Error)?.message ?? err}`, [], { cause: err });
    }
    return { config, loadedAt: new Date(), alertSink, inspectors, runtime };
  } catch (err) {
    inspectors?.close();
    await alertSink.close();
    throw err;
  }
}

async function retire(generation: Generation, graceMs: number): Promise<void> {
  try {
    await generation.runtime.close(graceMs);
  } finally {
    generation.inspectors?.close();
    await generation.alertSink.close();
  }
}

function applyOptions(generation: Generation, logger: Logger): ApplyOptions {
  const config = generation.config;
  return {
    serverOptions: frontEndOptions(config),
    clientErrorHandler: clientErrorHandler({ logger, inspectors: generation.inspectors }),
    describe: (spec) => listenerSource(config, spec),
    drainGraceMs: config.gateway.timeouts.shutdownGraceMs,
  };
}
