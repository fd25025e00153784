/**
 * The server certificates one TLS listener can present (alias and bridge mode alike): a SecureContext per
 * certificate, built once when the runtime is created, and selection by SNI name (exact names first, then
 * `*.example.com` wildcards covering exactly one label, as RFC 6125 says). Earlier certificates win on
 * overlapping names: declaration order is the operator's preference.
 */
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Certificate } from '../config/types.js';

/**
 * Server context options for one certificate. `clientCas` (client-certificate authentication) go into
 * every context of the listener: the CA store belongs to the handshake, which happens before the
 * request (and so its service) is known.
 */
export function serverContextOptions(cert: Certificate, clientCas: readonly string[]): SecureContextOptions {
  return {
    cert: cert.chain === null ? cert.cert : `${cert.cert.trimEnd()}\n${cert.chain}`,
    key: cert.key,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ...(clientCas.length > 0 ? { ca: [...clientCas] } : {}),
  };
}

export class CertificateSet {
  /** The first certificate's context: used without SNI or for an unknown name. */
  readonly defaultContext: SecureContext;
  readonly defaultContextOptions: SecureContextOptions;
  readonly #contexts = new Map<Certificate, SecureContext>();
  readonly #exact = new Map<string, SecureContext>();
  readonly #wildcard = new Map<string, SecureContext>(); // ".example.com" → context

  /**
   * `certificates`: non-empty, in preference order. `onError` turns a context failure (a key the TLS
   * library refuses) into the caller's typed error; it must throw.
   */
  constructor(certificates: readonly Certificate[], clientCas: readonly string[],
    onError: (cert: Certificate, err: Error) => never) {
    for (const cert of certificates) {
      try {
        this.#contexts.set(cert, createSecureContext(serverContextOptions(cert, clientCas)));
      } catch (err) {
        onError(cert, err as Error);
      }
    }
    const first = certificates[0]!;
    this.defaultContext = this.#contexts.get(first)!;
    this.defaultContextOptions = serverContextOptions(first, clientCas);
    for (const cert of certificates) {
      const ctx = this.#contexts.get(cert)!;
      for (const name of cert.dnsNames) {
        const lower = name.toLowerCase();
        if (lower.startsWith('*.')) {
          if (!this.#wildcard.has(lower.slice(1))) this.#wildcard.set(lower.slice(1), ctx);
        } else if (!this.#exact.has(lower)) {
          this.#exact.set(lower, ctx);
        }
      }
    }
  }

  /** The context of a certificate of this set. */
  contextOf(cert: Certificate): SecureContext | undefined {
    return this.#contexts.get(cert);
  }

  /** The context whose certificate carries `serverName` (lower-case), or undefined. */
  byName(serverName: string): SecureContext | undefined {
    const hit = this.#exact.get(serverName);
    if (hit !== undefined) return hit;
    const dot = serverName.indexOf('.');
    return dot > 0 ? this.#wildcard.get(serverName.slice(dot)) : undefined;
  }
}
