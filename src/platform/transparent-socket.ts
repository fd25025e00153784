/**
 * IP_TRANSPARENT sockets for bridge mode, made through libc with koffi (no native build).
 *
 * Two kinds:
 *  - listeners (`openTransparentListener`): bound to the ORIGINAL service port (Design B), listening; the
 *    daemon hands the fd to `net.Server.listen({ fd })` / `tls.Server.listen({ fd })`. Accepted sockets
 *    carry the original destination as `localAddress:localPort`.
 *  - upstream sockets (`connectTransparent`): bound to the client's (non-local) address so the server
 *    sees the client. `ip_nonlocal_bind` and IP_FREEBIND do NOT work for this (connect() fails with
 *    ENETUNREACH): only IP_TRANSPARENT skips the kernel's source check on the outbound route.
 *
 * Only socket(), setsockopt() and bind() run through koffi, synchronously; none of them blocks (the
 * socket is created non-blocking). The connect itself is done by Node core (libuv): the bound fd is
 * wrapped with `new net.Socket({ fd, manualStart: true })` and `.connect()` is called on it, so the
 * handshake is event-loop driven, with Node's own error reporting. `manualStart` (an internal option of
 * net.Socket) stops the constructor from calling read(0) on the not-yet-connected fd, which is racy;
 * `readable:false/writable:false` must not be passed either (the stream would be ended before connect).
 *
 * koffi is loaded on first use, so importing this module costs nothing in modes that never call it.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import tls from 'node:tls';
import { buildConnector } from 'undici';
import { CAP_NET_ADMIN_MESSAGE, CAP_NET_BIND_SERVICE_MESSAGE } from './capabilities.js';
import { PlatformError } from './platform-errors.js';
import { AF_INET, encodeSockaddr, type EncodedSockaddr } from './socket-address.js';

// <sys/socket.h>, <netinet/in.h>, <linux/in6.h> (x86-64 and arm64 share these values)
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_REUSEPORT = 15;
const SO_MARK = 36;
const SOL_IP = 0;
const IP_TRANSPARENT = 19;
const SOL_IPV6 = 41;
const IPV6_V6ONLY = 26;
const IPV6_TRANSPARENT = 75;

interface LibcSocketCalls {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  bind(fd: number, addr: Buffer, length: number): number;
  listen(fd: number, backlog: number): number;
  close(fd: number): number;
  errno(): number;
}

let libc: LibcSocketCalls | null = null;

function loadLibc(): LibcSocketCalls {
  if (libc) return libc;
  if (process.platform !== 'linux') {
    throw new PlatformError('ERR_NATIVE_UNAVAILABLE', `transparent sockets need Linux (this is ${process.platform})`);
  }
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    libc = {
      socket: lib.func('int socket(int, int, int)'),
      setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
      bind: lib.func('int bind(int, const void *, uint32_t)'),
      listen: lib.func('int listen(int, int)'),
      close: lib.func('int close(int)'),
      errno: () => koffi.errno(),
    };
    return libc;
  } catch (err) {
    throw new PlatformError('ERR_NATIVE_UNAVAILABLE', `cannot reach libc through koffi: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

const INT_ONE = Buffer.from([1, 0, 0, 0]);

function intBuffer(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

/** Maps a failed call to the typed error an operator can act on. */
function socketError(call: string, errno: number, where: string, port: number): PlatformError {
  const name = errnoName(errno);
  if (name === 'EPERM' && (call === 'setsockopt(IP_TRANSPARENT)' || call === 'setsockopt(IPV6_TRANSPARENT)' || call === 'setsockopt(SO_MARK)')) {
    return new PlatformError('ERR_CAP_NET_ADMIN', `${CAP_NET_ADMIN_MESSAGE} (${call} failed with EPERM)`, {
      errnoName: name,
      syscall: call,
    });
  }
  if (call === 'bind' && name === 'EACCES' && port > 0 && port < 1024) {
    return new PlatformError('ERR_CAP_NET_BIND_SERVICE', `${CAP_NET_BIND_SERVICE_MESSAGE} (bind ${where})`, {
      errnoName: name,
      syscall: call,
    });
  }
  return new PlatformError('ERR_TRANSPARENT_SOCKET', `${call} ${where} failed: ${name}`, { errnoName: name, syscall: call });
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PlatformError('ERR_TRANSPARENT_SOCKET', `${what} must be an integer 0..65535, got ${String(port)}`, {
      errnoName: 'EINVAL',
    });
  }
}

function sockaddrFor(address: string, port: number, what: string): EncodedSockaddr {
  checkPort(port, `${what} port`);
  const sa = encodeSockaddr(address, port);
  if (!sa) {
    throw new PlatformError('ERR_TRANSPARENT_SOCKET', `${what} address must be an IPv4 or IPv6 literal, got '${address}'`, {
      errnoName: 'EINVAL',
    });
  }
  return sa;
}

function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

interface BoundSocketOptions {
  reuseAddress: boolean;
  reusePort: boolean;
  mark: number;
}

/** socket() + IP_TRANSPARENT (+ options) + bind(); returns the fd or throws, never leaks the fd. */
function transparentBoundSocket(sa: EncodedSockaddr, address: string, port: number, opts: BoundSocketOptions): number {
  const c = loadLibc();
  const where = formatEndpoint(address, port);
  const fd = c.socket(sa.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw socketError('socket', c.errno(), where, port);
  const fail = (call: string): never => {
    const errno = c.errno();
    c.close(fd);
    throw socketError(call, errno, where, port);
  };
  if (sa.family === AF_INET) {
    if (c.setsockopt(fd, SOL_IP, IP_TRANSPARENT, INT_ONE, 4) !== 0) fail('setsockopt(IP_TRANSPARENT)');
  } else {
    if (c.setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, INT_ONE, 4) !== 0) fail('setsockopt(IPV6_TRANSPARENT)');
    // a [::]:port listener must not also claim IPv4 (the daemon opens 0.0.0.0:port separately)
    if (c.setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, INT_ONE, 4) !== 0) fail('setsockopt(IPV6_V6ONLY)');
  }
  if (opts.reuseAddress && c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, INT_ONE, 4) !== 0) fail('setsockopt(SO_REUSEADDR)');
  if (opts.reusePort && c.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, INT_ONE, 4) !== 0) fail('setsockopt(SO_REUSEPORT)');
  if (opts.mark !== 0 && c.setsockopt(fd, SOL_SOCKET, SO_MARK, intBuffer(opts.mark), 4) !== 0) fail('setsockopt(SO_MARK)');
  if (c.bind(fd, sa.bytes, sa.bytes.length) !== 0) fail('bind');
  return fd;
}

export interface TransparentListenerOptions {
  /** listen() backlog, default 511 (Node's default). */
  readonly backlog?: number;
  /** SO_REUSEPORT, so several worker processes can each hold a listener on the same address:port. */
  readonly reusePort?: boolean;
}

/**
 * An IP_TRANSPARENT (IPV6_TRANSPARENT for v6) listening socket with SO_REUSEADDR, bound to
 * address:port. Returns the fd: `server.listen({ fd })` takes ownership of it. Port 0 binds an
 * ephemeral port (read it back with `server.address()`).
 *
 * @throws PlatformError ERR_CAP_NET_ADMIN | ERR_CAP_NET_BIND_SERVICE | ERR_TRANSPARENT_SOCKET | ERR_NATIVE_UNAVAILABLE
 */
export function openTransparentListener(address: string, port: number, opts: TransparentListenerOptions = {}): number {
  const sa = sockaddrFor(address, port, 'listener');
  const backlog = opts.backlog ?? 511;
  const fd = transparentBoundSocket(sa, address, port, { reuseAddress: true, reusePort: opts.reusePort === true, mark: 0 });
  const c = loadLibc();
  if (c.listen(fd, backlog) !== 0) {
    const errno = c.errno();
    c.close(fd);
    throw socketError('listen', errno, formatEndpoint(address, port), port);
  }
  return fd;
}

/**
 * Makes `server` (net.Server, http.Server, https.Server, tls.Server) listen on a new IP_TRANSPARENT
 * socket for `target`; resolves once it listens. This is the shape of the daemon's listener hook
 * (src/daemon/listener-registry.ts `TransparentListenerOpener`): pass
 * `(server, spec) => listenTransparent(server, spec, { reusePort: workers > 1 })`.
 * @throws PlatformError (see openTransparentListener), or the server's own 'error'
 */
export function listenTransparent(
  server: net.Server,
  target: { readonly address: string; readonly port: number },
  opts: TransparentListenerOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openTransparentListener(target.address, target.port, opts);
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ fd });
  });
}

/**
 * Closes an fd that was NOT handed to Node (an fd given to net.Server/net.Socket belongs to Node).
 */
export function closeUnusedFd(fd: number): void {
  loadLibc().close(fd);
}

export interface TransparentConnectOptions {
  /** Source address, usually the client's (not local to this host). */
  readonly localAddress: string;
  /** Source port; default 0 (ephemeral). The client's own port works too, when it is free here. */
  readonly localPort?: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** SO_MARK for the upstream packets; 0 / absent = none. */
  readonly mark?: number;
  /** Give up after this many milliseconds (ETIMEDOUT); default 5000. */
  readonly timeoutMs?: number;
}

/**
 * An IP_TRANSPARENT TCP connection from `localAddress` (non-local is fine) to the remote endpoint.
 * Resolves with the connected net.Socket; rejects with a PlatformError (ERR_CAP_NET_ADMIN when the
 * process lacks CAP_NET_ADMIN, else ERR_TRANSPARENT_SOCKET whose `errnoName` is e.g. ECONNREFUSED,
 * ETIMEDOUT, EADDRINUSE, ENETUNREACH).
 */
export function connectTransparent(opts: TransparentConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const localPort = opts.localPort ?? 0;
    const local = sockaddrFor(opts.localAddress, localPort, 'local');
    const remote = sockaddrFor(opts.remoteAddress, opts.remotePort, 'remote');
    if (local.family !== remote.family) {
      reject(
        new PlatformError(
          'ERR_TRANSPARENT_SOCKET',
          `local ${opts.localAddress} and remote ${opts.remoteAddress} are of different address families`,
          { errnoName: 'EAFNOSUPPORT' },
        ),
      );
      return;
    }
    const mark = opts.mark ?? 0;
    const fd = transparentBoundSocket(local, opts.localAddress, localPort, { reuseAddress: false, reusePort: false, mark });
    let socket: net.Socket;
    try {
      socket = new net.Socket({ fd, manualStart: true } as net.SocketConstructorOpts);
    } catch (err) {
      closeUnusedFd(fd);
      reject(new PlatformError('ERR_TRANSPARENT_SOCKET', `cannot wrap fd ${fd}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const target = formatEndpoint(opts.remoteAddress, opts.remotePort);
    const timeoutMs = opts.timeoutMs ?? 5000;
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(
        new PlatformError('ERR_TRANSPARENT_SOCKET', `connect ${target} from ${opts.localAddress} timed out after ${timeoutMs} ms`, {
          errnoName: 'ETIMEDOUT',
          syscall: 'connect',
        }),
      );
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException): void => {
      cleanup();
      socket.destroy();
      const name = err.code ?? 'EIO';
      reject(
        new PlatformError('ERR_TRANSPARENT_SOCKET', `connect ${target} from ${opts.localAddress} failed: ${name}`, {
          errnoName: name,
          syscall: 'connect',
          cause: err,
        }),
      );
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
    socket.connect({ host: opts.remoteAddress, port: opts.remotePort });
  });
}

/**
 * The connection of `connectTransparent`, returned at once while it connects, like `net.connect()`: the
 * socket emits Node's own 'connect' or 'error'. For callers written against net.connect (the pipeline's
 * Upgrade relay); no connect timeout of its own.
 * @throws PlatformError synchronously when the socket cannot be created or bound (ERR_CAP_NET_ADMIN …)
 */
export function openTransparentConnection(opts: Omit<TransparentConnectOptions, 'timeoutMs'>): net.Socket {
  const localPort = opts.localPort ?? 0;
  const local = sockaddrFor(opts.localAddress, localPort, 'local');
  const remote = sockaddrFor(opts.remoteAddress, opts.remotePort, 'remote');
  if (local.family !== remote.family) {
    throw new PlatformError('ERR_TRANSPARENT_SOCKET',
      `local ${opts.localAddress} and remote ${opts.remoteAddress} are of different address families`, { errnoName: 'EAFNOSUPPORT' });
  }
  const fd = transparentBoundSocket(local, opts.localAddress, localPort, { reuseAddress: false, reusePort: false, mark: opts.mark ?? 0 });
  let socket: net.Socket;
  try {
    socket = new net.Socket({ fd, manualStart: true } as net.SocketConstructorOpts);
  } catch (err) {
    closeUnusedFd(fd);
    throw new PlatformError('ERR_TRANSPARENT_SOCKET', `cannot wrap fd ${fd}: ${(err as Error).message}`, { cause: err });
  }
  return socket.connect({ host: opts.remoteAddress, port: opts.remotePort });
}

export interface TransparentConnectorOptions {
  /** Source address of every connection this connector opens (one connector per client address). */
  readonly localAddress: string;
  readonly mark?: number;
  /** TCP connect timeout and, for https:, the TLS handshake timeout (undici's), default 5000 ms. */
  readonly timeoutMs?: number;
  /** TLS options for https: origins (ca, rejectUnauthorized, servername …), passed to undici's connector. */
  readonly tls?: Omit<tls.ConnectionOptions, 'socket' | 'host' | 'port'>;
}

type UndiciConnector = ReturnType<typeof buildConnector>;
type UndiciConnectOptions = Parameters<UndiciConnector>[0];
type UndiciConnectCallback = Parameters<UndiciConnector>[1];

/**
 * An undici `connect` function (Pool/Client/Agent option) whose connections come from `localAddress`
 * through IP_TRANSPARENT sockets. A pooled connection carries one source address, so the pipeline keeps
 * one pool per client address (or per request) when it wants the server to see the client.
 * For https: origins the connected socket is upgraded with undici's own TLS connector (session cache,
 * ALPN, servername), so TLS behaves exactly like a normal undici connection.
 */
export function transparentConnector(opts: TransparentConnectorOptions): UndiciConnector {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const tlsConnector = buildConnector({ ...(opts.tls ?? {}), timeout: timeoutMs } as buildConnector.BuildOptions);
  return (connectOpts: UndiciConnectOptions, callback: UndiciConnectCallback): void => {
    const hostname = connectOpts.hostname.replace(/^\[(.*)\]$/, '$1');
    const https = connectOpts.protocol === 'https:';
    const port = connectOpts.port ? Number(connectOpts.port) : https ? 443 : 80;
    connectTransparent({
      localAddress: opts.localAddress,
      remoteAddress: hostname,
      remotePort: port,
      mark: opts.mark ?? 0,
      timeoutMs,
    }).then(
      (socket) => {
        if (!https) {
          callback(null, socket);
          return;
        }
        tlsConnector({ ...connectOpts, httpSocket: socket } as UndiciConnectOptions, (err, tlsSocket) => {
          if (err) {
            socket.destroy();
            callback(err, null);
          } else {
            callback(null, tlsSocket as tls.TLSSocket);
          }
        });
      },
      (err: Error) => callback(err, null),
    );
  };
}
