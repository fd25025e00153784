/**
 * What the gateway answers when it cannot forward a request, and the stable reason code it logs. The
 * plain-text bodies are encoded once.
 */

export type FailureReason =
  | 'no-matching-rule'
  | 'missing-host'
  | 'connect-not-supported'
  | 'client-timeout'
  | 'upstream-invalid-response'
  | 'too-many-headers'
  | 'url-too-long'
  | 'body-too-large'
  | 'inspection-body-too-large'
  | 'client-certificate-required'
  | 'upstream-refused'
  | 'upstream-unreachable'
  | 'upstream-dns-failed'
  | 'upstream-connect-timeout'
  | 'upstream-timeout'
  | 'upstream-certificate-invalid'
  | 'upstream-tls-failed'
  | 'upstream-reset'
  | 'upstream-error'
  | 'upstream-body-timeout'
  | 'client-aborted'
  | 'client-error'
  | 'gateway-closing'
  | 'no-healthy-server'
  | 'internal-error';

export interface FailureAnswer {
  readonly status: number;
  readonly reason: FailureReason;
  readonly body: Buffer;
}

function answer(status: number, reason: FailureReason, text: string): FailureAnswer {
  return Object.freeze({ status, reason, body: Buffer.from(`${text}\n`, 'utf8') });
}

export const ANSWERS: Readonly<Record<FailureReason, FailureAnswer>> = Object.freeze({
  'no-matching-rule': answer(404, 'no-matching-rule', 'Not Found: no route for this host and path'),
  'missing-host': answer(400, 'missing-host', 'Bad Request: HTTP/1.1 requires a Host header'),
  // A reverse proxy does not open tunnels: CONNECT is inspected like any request, then refused.
  'connect-not-supported': answer(405, 'connect-not-supported', 'Method Not Allowed: this gateway does not tunnel CONNECT'),
  'client-timeout': answer(408, 'client-timeout', 'Request Timeout'),
  'upstream-invalid-response': answer(502, 'upstream-invalid-response', 'Bad Gateway: the server sent an invalid response'),
  'too-many-headers': answer(431, 'too-many-headers', 'Request Header Fields Too Large'),
  'url-too-long': answer(414, 'url-too-long', 'URI Too Long'),
  'body-too-large': answer(413, 'body-too-large', 'Content Too Large'),
  'inspection-body-too-large': answer(413, 'inspection-body-too-large', 'Content Too Large'),
  'client-certificate-required': answer(403, 'client-certificate-required', 'Forbidden: client certificate required'),
  'upstream-refused': answer(502, 'upstream-refused', 'Bad Gateway: the server refused the connection'),
  'upstream-unreachable': answer(502, 'upstream-unreachable', 'Bad Gateway: the server is unreachable'),
  'upstream-dns-failed': answer(502, 'upstream-dns-failed', 'Bad Gateway: the server name did not resolve'),
  'upstream-connect-timeout': answer(504, 'upstream-connect-timeout', 'Gateway Timeout: connecting to the server timed out'),
  'upstream-timeout': answer(504, 'upstream-timeout', 'Gateway Timeout: the server did not answer in time'),
  'upstream-certificate-invalid': answer(502, 'upstream-certificate-invalid', 'Bad Gateway: the server certificate is not trusted'),
  'upstream-tls-failed': answer(502, 'upstream-tls-failed', 'Bad Gateway: TLS to the server failed'),
  'upstream-reset': answer(502, 'upstream-reset', 'Bad Gateway: the server closed the connection'),
  'upstream-error': answer(502, 'upstream-error', 'Bad Gateway'),
  'upstream-body-timeout': answer(504, 'upstream-body-timeout', 'Gateway Timeout'),
  'client-aborted': answer(400, 'client-aborted', 'Bad Request'),
  'client-error': answer(400, 'client-error', 'Bad Request'),
  'gateway-closing': answer(503, 'gateway-closing', 'Service Unavailable'),
  'no-healthy-server': answer(503, 'no-healthy-server', 'Service Unavailable: no healthy server in the pool'),
  'internal-error': answer(500, 'internal-error', 'Internal Server Error'),
});

/** TLS verification failures as reported by OpenSSL through node (err.code). */
const CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Maps an error from undici or a raw upstream socket to the answer the client gets. */
export function classifyUpstreamError(err: unknown): FailureAnswer {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return ANSWERS['upstream-refused'];
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return ANSWERS['upstream-unreachable'];
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return ANSWERS['upstream-dns-failed'];
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return ANSWERS['upstream-connect-timeout'];
    case 'UND_ERR_HEADERS_TIMEOUT':
      return ANSWERS['upstream-timeout'];
    case 'UND_ERR_BODY_TIMEOUT':
      return ANSWERS['upstream-body-timeout'];
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return ANSWERS['upstream-reset'];
    default:
      if (typeof code === 'string') {
        if (CERTIFICATE_CODES.has(code)) return ANSWERS['upstream-certificate-invalid'];
        if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return ANSWERS['upstream-tls-failed'];
      }
      return ANSWERS['upstream-error'];
  }
}
