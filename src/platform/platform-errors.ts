/**
 * Typed errors of the platform layer (transparent sockets, capabilities, nftables, interfaces).
 * Callers match `code`, never the message text.
 */
export type PlatformErrorCode =
  /** IP_TRANSPARENT / SO_MARK / nft need CAP_NET_ADMIN, which the process does not have. */
  | 'ERR_CAP_NET_ADMIN'
  /** Binding a port below 1024 needs CAP_NET_BIND_SERVICE. */
  | 'ERR_CAP_NET_BIND_SERVICE'
  /** Any other socket failure; `errnoName` says which (EADDRINUSE, ECONNREFUSED, …). */
  | 'ERR_TRANSPARENT_SOCKET'
  /** libc could not be reached through koffi (not Linux, koffi missing). */
  | 'ERR_NATIVE_UNAVAILABLE'
  /** The input of a rule-set renderer is inconsistent (bad address, port, MAC, table name …). */
  | 'ERR_RULESET_INPUT'
  /** `nft`, `ip` or `sysctl` failed while applying or removing the bridge rules. */
  | 'ERR_NFT_APPLY'
  /** A network interface is missing or unreadable. */
  | 'ERR_NETWORK_INTERFACE';

export class PlatformError extends Error {
  override readonly name = 'PlatformError';
  readonly code: PlatformErrorCode;
  /** errno name of the failing system call (EPERM, EACCES …), or null. */
  readonly errnoName: string | null;
  /** The failing system call or command, e.g. `setsockopt(IP_TRANSPARENT)` or `nft -f -`. */
  readonly syscall: string | null;

  constructor(
    code: PlatformErrorCode,
    message: string,
    details: { errnoName?: string | null; syscall?: string | null; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.errnoName = details.errnoName ?? null;
    this.syscall = details.syscall ?? null;
  }
}
