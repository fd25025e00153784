/**
 * TLS for one alias listener: a SecureContext per server certificate of the reverse-proxy rules bound to
 * the address:port, built once when the runtime is created, and SNI selection among them (exact names
 * first, then `*.example.com` wildcards covering exactly one label, as RFC 6125 says).
 */
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Certificate } from '../../config/types.js';
import type { TlsListenerOptions } from '../../daemon/runtime.js';
import type { OutboundEntry } from './outbound-rules.js';

export class AliasTlsError extends Error {
  readonly code = 'ALIAS_TLS_CONFIG';
}

function contextOptions(cert: Certificate, clientCas: readonly string[]): SecureContextOptions {
  return {
    cert: cert.chain === null ? cert.cert : `${cert.cert.trimEnd()}\n${cert.chain}`,
    key: cert.key,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ...(clientCas.length > 0 ? { ca: [...clientCas] } : {}),
  };
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
  const cas = [...clientCas];
  const contexts = new Map<Certificate, SecureContext>();
  for (const cert of certificates) {
    try {
      contexts.set(cert, createSecureContext(contextOptions(cert, cas)));
    } catch (err) {
      throw new AliasTlsError(`${where}: certificate ${cert.name}: ${(err as Error).message}`);
    }
  }
  const defaultCert = certificates[0]!;
  const defaultContext = contexts.get(defaultCert)!;
  const exact = new Map<string, SecureContext>();
  const wildcard = new Map<string, SecureContext>(); // ".example.com" → context
  // Earlier certificates win on overlapping names: declaration order is the operator's preference.
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
  return {
    defaultContext,
    defaultContextOptions: contextOptions(defaultCert, cas),
    contextFor(serverName: string): SecureContext {
      const name = serverName.toLowerCase();
      const hit = exact.get(name);
      if (hit !== undefined) return hit;
      const dot = name.indexOf('.');
      if (dot > 0) {
        const wild = wildcard.get(name.slice(dot));
        if (wild !== undefined) return wild;
      }
      return defaultContext;
    },
    // Mixed listeners (some services with client auth, some without) ask for a certificate but let the
    // handshake through; the pipeline then refuses requests routed to a service that requires one.
    requestCert: anyClientAuth,
    rejectUnauthorized: anyClientAuth && allRequireClientCert,
  };
}
