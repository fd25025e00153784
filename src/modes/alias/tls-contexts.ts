/**
 * TLS for one alias listener: the server certificates of the reverse-proxy rules bound to the
 * address:port (a CertificateSet: contexts built once, SNI selection) and client-certificate settings.
 */
import type { SecureContext } from 'node:tls';
import type { Certificate } from '../../config/types.js';
import type { TlsListenerOptions } from '../../daemon/runtime.js';
import { CertificateSet } from '../../pipeline/certificate-set.js';
import type { OutboundEntry } from './outbound-rules.js';

export class AliasTlsError extends Error {
  readonly code = 'ALIAS_TLS_CONFIG';
}

/**
 * `entries` are the TLS reverse-proxy entries of one listener, in declaration order; the first one's
 * server certificate is the default. Client-certificate CAs of every service on the listener go into every
 * context (the CA store belongs to the handshake, which happens before we know the request's service).
 */
export function buildTlsListener(entries: readonly OutboundEntry[], where: string): TlsListenerOptions {
  const certificates: Certificate[] = [];
  const clientCas = new Set<string>();
  let anyClientAuth = false;
  let allRequireClientCert = true;
  const seenProxies = new Set<object>();
  for (const e of entries) {
    if (seenProxies.has(e.reverseProxy)) continue;
    seenProxies.add(e.reverseProxy);
    const cert = e.reverseProxy.serverCertificateRef;
    if (cert === null) throw new AliasTlsError(`${where}: TLS port without a serverCertificate`);
    if (!certificates.includes(cert)) certificates.push(cert);
    const auth = e.service.clientAuth;
    if (auth !== null) {
      anyClientAuth = true;
      clientCas.add(auth.ca);
      if (!auth.required) allRequireClientCert = false;
    } else {
      allRequireClientCert = false;
    }
  }
  if (certificates.length === 0) throw new AliasTlsError(`${where}: no server certificate`);
  const set = new CertificateSet(certificates, [...clientCas], (cert, err) => {
    throw new AliasTlsError(`${where}: certificate ${cert.name}: ${err.message}`);
  });
  return {
    defaultContext: set.defaultContext,
    defaultContextOptions: set.defaultContextOptions,
    contextFor: (serverName: string): SecureContext => set.byName(serverName.toLowerCase()) ?? set.defaultContext,
    // Mixed listeners (some services with client auth, some without) ask for a certificate but let the
    // handshake through; the pipeline then refuses requests routed to a service that requires one.
    requestCert: anyClientAuth,
    rejectUnauthorized: anyClientAuth && allRequireClientCert,
  };
}
