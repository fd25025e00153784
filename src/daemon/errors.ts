/**
 * Typed daemon errors with stable codes. Scripts and tests match `code`, never the message text.
 */
export type DaemonErrorCode =
  /** Another socket already listens on the address:port. */
  | 'ERR_LISTEN_ADDRESS_IN_USE'
  /** The address is not configured on this host (EADDRNOTAVAIL). */
  | 'ERR_LISTEN_ADDRESS_NOT_AVAILABLE'
  /** Binding needs privileges (port < 1024 without CAP_NET_BIND_SERVICE). */
  | 'ERR_LISTEN_PERMISSION_DENIED'
  /** Any other listen failure. */
  | 'ERR_LISTEN_FAILED'
  /** The configured mode (or a platform feature it needs) is not built into this daemon yet. */
  | 'ERR_MODE_NOT_AVAILABLE'
  /** An alias address is not present on its device. */
  | 'ERR_ALIAS_ADDRESS_MISSING'
  /** The configuration file failed to load or validate; `details` lists every error. */
  | 'ERR_CONFIG_INVALID'
  /** The policy engine refused the rules; `details` lists every error. */
  | 'ERR_INSPECTORS_FAILED'
  /** The mode runtime could not be built from a valid configuration. */
  | 'ERR_RUNTIME_FAILED'
  /** The control socket could not be created, or another daemon already owns it. */
  | 'ERR_CONTROL_SOCKET'
  /** No daemon answers on the control socket (`portcullis reload` / `status` exit 3). */
  | 'ERR_DAEMON_NOT_RUNNING'
  /** A worker process failed to start or to reload. */
  | 'ERR_WORKER_FAILED'
  /** The gateway is not in a state that allows the operation (e.g. reload before start). */
  | 'ERR_GATEWAY_STATE';

export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  readonly code: DaemonErrorCode;
  /** Every individual problem, one human-readable line each (config errors, load errors). */
  readonly details: readonly string[];

  constructor(code: DaemonErrorCode, message: string, details: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** Every line an operator should see for an error: the message, then each detail. */
export function errorLines(err: unknown): string[] {
  if (err instanceof DaemonError) {
    return err.details.length > 0 ? [err.message, ...err.details.map((d) => `  ${d}`)] : [err.message];
  }
  if (err instanceof Error) return [err.message];
  return [String(err)];
}
