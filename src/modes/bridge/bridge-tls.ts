/**
 * TLS for one bridge listener port. Every service with this port among its sslPorts contributes its
 * certificates; a SecureContext is built once per certificate. The handshake picks:
 *   1. the certificate whose name matches the client's SNI (exact, then a one-label `*.` wildcard);
 *   2. otherwise (no SNI, or a name none of them carries) the certificate bound to the original
 *      destination: the first certificate of the service that protects that address:port.
 * Step 2 needs the connection's local address, which node's SNICallback does not receive; the listener
 * registry passes it through `TlsListenerOptions.contextForConnection`.
 */
import type { SecureContext } from 'node:tls';
import type { Certificate, Service } from '../../config/types.js';
import type { TlsListenerOptions } from '../../daemon/runtime.js';
import { CertificateSet } from '../../pipeline/certificate-set.js';
import { BridgeRuntimeError, canonicalAddress, type BridgeEndpoint } from './bridge-endpoints.js';

export interface BridgeTlsPort {
  readonly listener: TlsListenerOptions;
  /** The names (lower-case) of every certificate on the port, for choosing the upstream TLS name. */
  matchesCertificateName(serverName: string): boolean;
}

/** `endpoints`: the TLS endpoints of one port, in configuration order. */
export function buildBridgeTls(port: number, endpoints: readonly BridgeEndpoint[]): BridgeTlsPort {
  const services: Service[] = [];
  for (const e of endpoints) if (!services.includes(e.service)) services.push(e.service);
  const certificates: Certificate[] = [];
  const clientCas = new Set<string>();
  let anyClientAuth = false;
  let allRequireClientCert = true;
  for (const service of services) {
    if (service.certificates.length === 0) {
      const where = endpoints.find((e) => e.service === service)!.source;
      throw new BridgeRuntimeError('NO_CERTIFICATE',
        `${where}: service ${service.name} has sslPort ${port} but no certificates: bridge mode terminates TLS with the server's own certificate`);
    }
    for (const cert of service.certificates) if (!certificates.includes(cert)) certificates.push(cert);
    if (service.clientAuth !== null) {
      anyClientAuth = true;
      clientCas.add(service.clientAuth.ca);
      if (!service.clientAuth.required) allRequireClientCert = false;
    } else {
      allRequireClientCert = false;
    }
  }
  const set = new CertificateSet(certificates, [...clientCas], (cert, err) => {
    throw new BridgeRuntimeError('BRIDGE_TLS_CONFIG', `port ${port}: certificate ${cert.name}: ${err.message}`);
  });
  const defaultContext = set.defaultContext;
  const byAddress = new Map<string, SecureContext>();
  for (const e of endpoints) byAddress.set(e.address, set.contextOf(e.service.certificates[0]!)!);
  const byName = (name: string): SecureContext | undefined => set.byName(name);
  const byLocal = (localAddress: string): SecureContext =>
    byAddress.get(localAddress) ?? byAddress.get(canonicalAddress(localAddress)) ?? defaultContext;

  return {
    listener: {
      defaultContext,
      defaultContextOptions: set.defaultContextOptions,
      contextFor: (serverName) => byName(serverName.toLowerCase()) ?? defaultContext,
      contextForConnection: (serverName, localAddress) =>
        (serverName === null ? undefined : byName(serverName.toLowerCase())) ?? byLocal(localAddress),
      requestCert: anyClientAuth,
      rejectUnauthorized: anyClientAuth && allRequireClientCert,
    },
    matchesCertificateName: (serverName) => byName(serverName) !== undefined,
  };
}
