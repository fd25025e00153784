/**
 * TLS for one bridge listener port. Every service with this port among its sslPorts contributes its
 * certificates; a SecureContext is built once per certificate. The handshake picks:
 *   1. the certificate whose name matches the client's SNI (exact, then a one-label `*.` wildcard);
 *   2. otherwise (no SNI, or a name none of them carries) the certificate bound to the original
 *      destination: the first certificate of the service that protects that address:port.
 * Step 2 needs the connection's local address, which node's SNICallback does not receive; the listener
 * registry passes it through `TlsListenerOptions.contextForConnection`.
 */
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Certificate, Service } from '../../config/types.js';
import type { TlsListenerOptions } from '../../daemon/runtime.js';
import { BridgeRuntimeError, canonicalAddress, type BridgeEndpoint } from './bridge-endpoints.js';

function contextOptions(cert: Certificate, clientCas: readonly string[]): SecureContextOptions {
  return {
    cert: cert.chain === null ? cert.cert : `${cert.cert.trimEnd()}\n${cert.chain}`,
    key: cert.key,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ...(clientCas.length > 0 ? { ca: [...clientCas] } : {}),
  };
}

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
  const cas = [...clientCas];
  const contexts = new Map<Certificate, SecureContext>();
  for (const cert of certificates) {
    try {
      contexts.set(cert, createSecureContext(contextOptions(cert, cas)));
    } catch (err) {
      throw new BridgeRuntimeError('BRIDGE_TLS_CONFIG', `port ${port}: certificate ${cert.name}: ${(err as Error).message}`);
    }
  }
  const defaultCert = certificates[0]!;
  const defaultContext = contexts.get(defaultCert)!;
  const exact = new Map<string, SecureContext>();
  const wildcard = new Map<string, SecureContext>(); // ".example.com" → context
  for (const cert of certificates) {
    const ctx = contexts.get(cert)!;
    for (const name of cert.dnsNames) {
      const lower = name.toLowerCase();
      if (lower.startsWith('*.')) {
        if (!wildcard.has(lower.slice(1))) wildcard.set(lower.slice(1), ctx);
      } else if (!exact.has(lower)) {
        exact.set(lower, ctx);
      }
    }
  }
  const byAddress = new Map<string, SecureContext>();
  for (const e of endpoints) byAddress.set(e.address, contexts.get(e.service.certificates[0]!)!);

  const byName = (name: string): SecureContext | undefined => {
    const hit = exact.get(name);
    if (hit !== undefined) return hit;
    const dot = name.indexOf('.');
    return dot > 0 ? wildcard.get(name.slice(dot)) : undefined;
  };
  const byLocal = (localAddress: string): SecureContext =>
    byAddress.get(localAddress) ?? byAddress.get(canonicalAddress(localAddress)) ?? defaultContext;

  return {
    listener: {
      defaultContext,
      defaultContextOptions: contextOptions(defaultCert, cas),
      contextFor: (serverName) => byName(serverName.toLowerCase()) ?? defaultContext,
      contextForConnection: (serverName, localAddress) =>
        (serverName === null ? undefined : byName(serverName.toLowerCase())) ?? byLocal(localAddress),
      requestCert: anyClientAuth,
      rejectUnauthorized: anyClientAuth && allRequireClientCert,
    },
    matchesCertificateName: (serverName) => byName(serverName) !== undefined,
  };
}
