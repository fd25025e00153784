/**
 * Builds the policy engine's inspectors for one configuration. The engine lives in
 * src/policy/inspector.ts; until that file exists the gateway runs without inspection (null), and
 * only that exact absence is tolerated: any other import failure is a real error.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.js';
import type { InspectorSet } from '../pipeline/inspection.js';
import type { AlertSink } from '../log/alert-sink.js';
import { formatProblem, PolicyLoadError } from '../policy/errors.js';
import { DaemonError } from './errors.js';

type PolicyModule = typeof import('../policy/inspector.js');

const INSPECTOR_MODULE = new URL(`../policy/inspector${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

async function loadPolicyModule(): Promise<PolicyModule | null> {
  try {
    return (await import(INSPECTOR_MODULE.href)) as PolicyModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { url?: string };
    // A missing dependency *of* inspector.ts also says ERR_MODULE_NOT_FOUND; only the file itself counts.
    const missing = e.code === 'ERR_MODULE_NOT_FOUND' && e.url === INSPECTOR_MODULE.href;
    if (missing) return null;
    throw err;
  }
}

/**
 * Returns the compiled inspectors, or null while the policy engine is not part of this build.
 * Throws `ERR_INSPECTORS_FAILED` with every load problem when the rules do not load.
 */
export async function buildInspectors(config: GatewayConfig, logger: Logger, alertSink: AlertSink): Promise<InspectorSet | null> {
  const mod = await loadPolicyModule();
  if (mod === null) {
    logger.warn('policy engine not available in this build (src/policy/inspector.ts missing): requests are not inspected');
    return null;
  }
  try {
    return mod.createInspectorSet(config, { logger, alertSink: (alert) => alertSink.write(alert) });
  } catch (err) {
    if (err instanceof PolicyLoadError) {
      throw new DaemonError(
        'ERR_INSPECTORS_FAILED',
        `the policy rules failed to load (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})`,
        err.problems.map(formatProblem),
        { cause: err },
      );
    }
    throw err;
  }
}
